// hardway's command line. Each command lives in commands/<name>.ts; errors a user can fix are
// printed as one clear message (exit 2), anything else as a message with a hint (exit 1).
import { isUserFacing } from './errors.ts';
import { redact } from '../report/redact.ts';
import type { Command } from './command.ts';
import { renderCommand } from './commands/render.ts';
import { verifyCommand } from './commands/verify.ts';
import { labCommand } from './commands/lab.ts';
import { reportCommand } from './commands/report.ts';
import { faultsCommand } from './commands/faults.ts';

const COMMANDS: Command[] = [renderCommand, verifyCommand, labCommand, faultsCommand, reportCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: hardway <command> [options]   (hardway <command> --help for details)

hardway verifies Kubernetes clusters built by hand, the way the seed article builds them.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`hardway: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (isUserFacing(e)) {
      process.stderr.write(redact(`hardway ${name}: ${e.message.replace(/^hardway \w+: /, '')}\n`));
      return e.exitCode ?? 2;
    }
    process.stderr.write(redact(`hardway ${name}: ${(e as Error).message}\n`));
    if (process.env.HARDWAY_DEBUG) process.stderr.write(redact(`${(e as Error).stack}\n`));
    else process.stderr.write('(set HARDWAY_DEBUG=1 to see the stack trace)\n');
    return 1;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
