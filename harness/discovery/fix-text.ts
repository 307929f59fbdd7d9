// Fix texts for the cluster as built: the file a component's command line is written in and the
// commands that apply a change to it, named from the facts (the unit and file discovery read),
// never from the layout hardway would have rendered.
import type { InitSystem } from '../system/init-system.ts';
import type { ComponentFacts } from './facts.ts';

type Where = Pick<ComponentFacts, 'host' | 'unit' | 'definedIn' | 'source'>;

/** The file holding the command line: ExecStart's unit file or drop-in, or the init script. */
export function commandFile(c: Where): string {
  // source(flag) is "<host>:<file> --<flag>" (components.ts).
  const s = c.source('x');
  const prefix = `${c.host}:`;
  if (s.startsWith(prefix) && s.endsWith(' --x')) return s.slice(prefix.length, -' --x'.length);
  return c.definedIn.at(-1) ?? c.unit;
}

/** "add --x to etcd's ExecStart in /etc/systemd/system/etcd.service, then systemctl daemon-reload &&
 * systemctl restart etcd": `change` ends with its preposition ("add --x=y to", "remove --x from"). */
export function editCommandLine(c: Where, init: InitSystem, change: string): string {
  const what = init.kind === 'openrc' ? 'command line' : 'ExecStart';
  return `${change} ${c.unit}'s ${what} in ${commandFile(c)} on ${c.host}, then ${init.restart(c.unit)}`;
}

/** Where to look first when a service misbehaves. */
export function statusHint(init: InitSystem, unit: string, host: string): string {
  const status = init.kind === 'openrc' ? `rc-service ${unit} status` : `systemctl status ${unit}`;
  return `${status} and ${init.logsHint(unit)} on ${host}`;
}
