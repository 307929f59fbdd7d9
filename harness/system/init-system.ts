// One abstraction per init system, chosen once per host (as Goss does): the shell commands that
// start, stop, inspect and read the logs of a service. Suites, the installer and the fault
// catalogue use this instead of branching on `init === 'openrc'` themselves.
import type { InitSystem as InitKind } from '../model/cluster.ts';

export interface UnitState {
  name: string;
  /** "active", "inactive", "failed", ... ("active" means running for both init systems). */
  active: string;
  /** "enabled", "disabled", "not-found", ... */
  enabled: string;
  /** systemd's Restart= value; for OpenRC "on-failure" when supervise-daemon respawns it. */
  restart: string;
}

export interface InitSystem {
  readonly kind: InitKind;
  /** Shell that prints one `name|active|enabled|restart` line per service. */
  stateScript(units: string[]): string;
  start(unit: string): string;
  stop(unit: string): string;
  /** Stops the service at once, without its graceful shutdown (SIGKILL where the init system can). */
  kill(unit: string): string;
  restart(unit: string): string;
  /** Enable at boot and start now. */
  enableStart(unit: string): string;
  /** Start at boot (without starting now), and the opposite. */
  enable(unit: string): string;
  disable(unit: string): string;
  /** Re-read unit definitions after a change (no-op for OpenRC). */
  reload(): string;
  /** Shell that prints the last `lines` log lines of the service. */
  logs(unit: string, lines: number): string;
  /** What a human runs to read the whole log. */
  logsHint(unit: string): string;
  /** Shell that prints the service's definition (unit with drop-ins; init script and conf.d). */
  definition(unit: string): string;
  /** The file hardway's installer writes the service's definition to (its arguments live there). */
  serviceFile(unit: string): string;
  /** The fix for a service that is not restarted when it dies. */
  restartFix(unit: string): string;
  /** The fix for a service that does not start at boot. */
  enableFix(unit: string): string;
  /** State and recent log, for the installer's diagnosis when a health wait times out. */
  diagnose(unit: string, lines: number): string;
}

const systemd: InitSystem = {
  kind: 'systemd',
  stateScript: (units) =>
    `for u in ${units.join(' ')}; do echo "$u|$(systemctl is-active "$u" 2>/dev/null)|$(systemctl is-enabled "$u" 2>/dev/null)|$(systemctl show -p Restart --value "$u" 2>/dev/null)"; done`,
  start: (u) => `systemctl start ${u}`,
  stop: (u) => `systemctl stop ${u}`,
  // The stop after the kill cancels the restart Restart=on-failure would schedule.
  kill: (u) => `systemctl kill --signal=SIGKILL ${u}; systemctl stop ${u}`,
  restart: (u) => `systemctl daemon-reload && systemctl restart ${u}`,
  enableStart: (u) => `systemctl enable --now ${u}.service`,
  enable: (u) => `systemctl enable ${u} 2>&1`,
  disable: (u) => `systemctl disable ${u} 2>&1`,
  reload: () => 'systemctl daemon-reload',
  logs: (u, n) => `journalctl -u ${u} -n ${n} --no-pager -o cat 2>/dev/null`,
  logsHint: (u) => `journalctl -u ${u} -e`,
  definition: (u) => `systemctl cat ${u} 2>/dev/null`,
  serviceFile: (u) => `/etc/systemd/system/${u}.service`,
  restartFix: (u) => `Restart=on-failure and RestartSec=5 in ${u}.service, then systemctl daemon-reload`,
  enableFix: (u) => `systemctl enable ${u}`,
  diagnose: (u, n) =>
    `systemctl show -p ActiveState -p SubState -p NRestarts ${u}.service | paste -sd' '; journalctl -u ${u}.service -n ${n} --no-pager -o cat 2>&1`,
};

const openrc: InitSystem = {
  kind: 'openrc',
  stateScript: (units) =>
    `for u in ${units.join(' ')}; do st=$(rc-service "$u" status 2>/dev/null | sed -n 's/.*status: *//p'); [ "$st" = started ] && a=active || a=\${st:-inactive}
rc-update show default 2>/dev/null | grep -qw "$u" && e=enabled || e=disabled
grep -q '^supervisor=supervise-daemon' /etc/init.d/"$u" 2>/dev/null && r=on-failure || r=no
echo "$u|$a|$e|$r"; done`,
  start: (u) => `rc-service ${u} start`,
  stop: (u) => `rc-service ${u} stop`,
  kill: (u) => `rc-service ${u} stop`,
  restart: (u) => `rc-service ${u} restart`,
  enableStart: (u) => `rc-update add ${u} default && rc-service ${u} start`,
  enable: (u) => `rc-update add ${u} default`,
  disable: (u) => `rc-update del ${u} default`,
  reload: () => 'true',
  logs: (u, n) => `tail -n ${n} /var/log/${u}.log 2>/dev/null`,
  logsHint: (u) => `tail /var/log/${u}.log`,
  definition: (u) => `cat /etc/init.d/${u} 2>/dev/null; [ -f /etc/conf.d/${u} ] && { echo '# /etc/conf.d/${u}'; cat /etc/conf.d/${u}; }`,
  serviceFile: (u) => `/etc/init.d/${u}`,
  restartFix: (u) => `supervisor=supervise-daemon in /etc/init.d/${u}`,
  enableFix: (u) => `rc-update add ${u} default`,
  diagnose: (u, n) => `rc-service ${u} status 2>&1; tail -n ${n} /var/log/${u}.log 2>&1`,
};

export function initSystem(kind: InitKind): InitSystem {
  return kind === 'openrc' ? openrc : systemd;
}

/** Parses the `name|active|enabled|restart` lines of stateScript(). */
export function parseUnitStates(out: string): UnitState[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('|'))
    .map((l) => {
      const [name = '', active = '', enabled = '', restart = ''] = l.split('|');
      return { name, active: active || 'unknown', enabled: enabled || 'not-found', restart: restart || 'no' };
    });
}
