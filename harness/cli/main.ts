// hardway's command line. Each command lives in commands/<name>.ts and is imported only when it
// runs: the lab pulls in testcontainers and verify the Kubernetes client, which `hardway --help`
// must not wait for. Errors a user can fix are one clear message (exit 2); anything else is a
// message with a hint (exit 1), the stack only with HARDWAY_DEBUG.
import { isUserFacing } from './errors.ts';
import { redact } from '../report/redact.ts';
import type { Command } from './command.ts';

interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

const COMMANDS: CommandEntry[] = [
  {
    name: 'render',
    summary: "write every host's files (PKI, kubeconfigs, units, configs) from cluster.yaml",
    load: async () => (await import('./commands/render.ts')).renderCommand,
  },
  {
    name: 'discover',
    summary: 'read what a cluster really runs and print it as a cluster model (cluster.yaml)',
    load: async () => (await import('./commands/discover.ts')).discoverCommand,
  },
  {
    name: 'verify',
    summary: 'run the verification suites against a target and write reports',
    load: async () => (await import('./commands/verify.ts')).verifyCommand,
  },
  {
    name: 'lab',
    summary: "boot the seed's topology as systemd containers and install a real cluster onto it",
    load: async () => (await import('./commands/lab.ts')).labCommand,
  },
  {
    name: 'faults',
    summary: 'break the lab on purpose, one fault at a time, and check that the suites catch each',
    load: async () => (await import('./commands/faults.ts')).faultsCommand,
  },
  {
    name: 'report',
    summary: 'the history of verify runs: what changed since the previous run, the list, the index page',
    load: async () => (await import('./commands/report.ts')).reportCommand,
  },
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: hardway <command> [options]   (hardway <command> --help for details)

hardway verifies Kubernetes clusters built by hand, the way the seed article builds them.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Exit codes: 0 success, 1 a check failed (or an unexpected error), 2 bad input (one line naming
the problem and the fix).
`;
}

/** Every line of a user-facing message starts with "hardway <command>" once, never twice. */
export function userMessage(name: string, message: string): string {
  return message
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) =>
      l === `hardway ${name}` || l.startsWith(`hardway ${name}:`) || l.startsWith(`hardway ${name} `)
        ? l
        : `hardway ${name}: ${l.replace(/^hardway \S+: /, '')}`,
    )
    .join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`hardway: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  try {
    const cmd = await entry.load();
    return await cmd.run(rest);
  } catch (e) {
    if (isUserFacing(e)) {
      process.stderr.write(redact(`${userMessage(name, e.message)}\n`));
      if (process.env.HARDWAY_DEBUG) process.stderr.write(redact(`${e.stack}\n`));
      return e.exitCode ?? 2;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(redact(`${userMessage(name, err.message || err.name)}\n`));
    if (process.env.HARDWAY_DEBUG) process.stderr.write(redact(`${err.stack}\n`));
    else process.stderr.write('(set HARDWAY_DEBUG=1 to see the stack trace)\n');
    return 1;
  }
}

if (import.meta.main) {
  // Last resort for an error no code path caught (an event emitter's 'error' nobody listened to):
  // one line, never a stack trace unless asked for.
  const crash = (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(redact(`hardway ${process.argv[2] ?? ''}: unexpected error: ${err.message.split('\n')[0]}\n`));
    process.stderr.write(process.env.HARDWAY_DEBUG ? redact(`${err.stack}\n`) : '(set HARDWAY_DEBUG=1 to see the stack trace)\n');
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
