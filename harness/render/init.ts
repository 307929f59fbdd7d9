// Writes a ServiceDef as a systemd unit or an OpenRC init script (the seed's node-2 ran OpenRC).
import type { ServiceDef } from './services.ts';

export function systemdUnitPath(name: string): string {
  return `/etc/systemd/system/${name}.service`;
}

export function openrcScriptPath(name: string): string {
  return `/etc/init.d/${name}`;
}

export function systemdUnit(s: ServiceDef): string {
  const [bin, ...args] = s.exec;
  const exec = [bin, ...args.map((a) => `  ${a}`)].join(' \\\n');
  return [
    '[Unit]',
    `Description=${s.description}`,
    `Documentation=${s.documentation}`,
    ...(s.after.length ? [`After=${s.after.join(' ')}`] : []),
    ...(s.after.includes('network-online.target') ? ['Wants=network-online.target'] : []),
    ...(s.requires.length ? [`Requires=${s.requires.join(' ')}`] : []),
    '',
    '[Service]',
    `Type=${s.type}`,
    `ExecStart=${exec}`,
    // The seed: the scheduler "stopped by itself now and then" until systemd restarted it.
    `Restart=${s.restart}`,
    'RestartSec=5',
    ...s.extra,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const shellQuote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

export function openrcScript(s: ServiceDef): string {
  const [bin, ...args] = s.exec;
  const needs = s.requires.map((r) => r.replace(/\.service$/, ''));
  const after = s.after.filter((a) => a.endsWith('.service')).map((a) => a.replace(/\.service$/, ''));
  return [
    '#!/sbin/openrc-run',
    `description="${s.description}"`,
    `command="${bin}"`,
    `command_args="${args.map(shellQuote).join(' ')}"`,
    // supervise-daemon restarts the process when it dies: OpenRC's equivalent of Restart=.
    'supervisor=supervise-daemon',
    'respawn_delay=5',
    'respawn_max=0',
    `output_log="/var/log/${s.name}.log"`,
    `error_log="/var/log/${s.name}.log"`,
    '',
    'depend() {',
    // "use", not "need": Gentoo's netifrc provides net, Debian's OpenRC (and a container) has no
    // such service, and a needed one that does not exist stops the component from starting.
    '    use net',
    ...(needs.length ? [`    need ${needs.join(' ')}`] : []),
    ...(after.length ? [`    after ${after.join(' ')}`] : []),
    '}',
    '',
  ].join('\n');
}
