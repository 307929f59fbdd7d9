// Pings several addresses at once in one shell (a pod's busybox sh or a host's /bin/sh): one
// exec per source instead of one per target, so that a check across n workers costs n execs, not
// n*(n-1) (each exec into a pod goes apiserver -> kubelet -> runtime). Every target still gets its
// own ping; the script prints one line per target, "<address> ok" or "<address> fail".

const ADDRESS = /^[0-9a-fA-F.:]+$/;

/** The shell script pinging `addresses` in parallel (2 packets, 2 s deadline per packet). */
export function pingSweepScript(addresses: string[]): string {
  for (const a of addresses) if (!ADDRESS.test(a)) throw new Error(`not an IP address: ${JSON.stringify(a)}`);
  const one = (a: string) => `(if ping -c 2 -i 0.2 -W 2 ${a} >/dev/null 2>&1; then echo "${a} ok"; else echo "${a} fail"; fi) &`;
  return `${addresses.map(one).join(' ')} wait`;
}

export type PingResult = 'ok' | 'fail' | 'unknown';

/** Each target's result; a target the output does not name (the shell was killed) is unknown. */
export function parsePingSweep(stdout: string, addresses: string[]): Map<string, PingResult> {
  const seen = new Map<string, PingResult>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (ok|fail)$/.exec(line.trim());
    if (m && addresses.includes(m[1]!)) seen.set(m[1]!, m[2] as 'ok' | 'fail');
  }
  return new Map(addresses.map((a) => [a, seen.get(a) ?? 'unknown']));
}
