// The common subset of OpenSSH's client configuration (~/.ssh/config), so that an inventory can
// name hosts by the aliases their owner already uses with `ssh`: Host blocks with patterns and
// negations, HostName, User, Port, IdentityFile, IdentityAgent, ProxyJump, UserKnownHostsFile,
// and Include. As in OpenSSH the first value obtained for a keyword wins (IdentityFile
// accumulates). `Match` blocks are not evaluated: their settings are ignored.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';

export interface SshConfigEntry {
  /** Host patterns of the block ("*" for settings before the first Host line). */
  patterns: string[];
  /** Keyword (lower case) -> values in file order. */
  options: [string, string][];
}

export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identityAgent?: string;
  /** Hops of ProxyJump, first hop first ([] for "none"). */
  proxyJump?: string[];
  userKnownHostsFile?: string;
}

const KNOWN = new Set(['hostname', 'user', 'port', 'identityfile', 'identityagent', 'proxyjump', 'userknownhostsfile']);

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

function splitArgs(s: string): string[] {
  return (s.match(/"[^"]*"|\S+/g) ?? []).map(unquote);
}

/** Parses config text into blocks; `Include` is resolved through `readInclude` (the texts of the
 * files a pattern names; by default relative to ~/.ssh, as OpenSSH does). */
export function parseSshConfig(text: string, readInclude: (pattern: string) => string[] = includedTexts, depth = 0): SshConfigEntry[] {
  const entries: SshConfigEntry[] = [{ patterns: ['*'], options: [] }];
  let skipping = false; // inside a Match block
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    if (key === 'host') {
      entries.push({ patterns: splitArgs(value), options: [] });
      skipping = false;
    } else if (key === 'match') {
      skipping = true;
    } else if (key === 'include') {
      if (depth > 8) continue;
      for (const pattern of splitArgs(value)) {
        for (const inc of readInclude(pattern)) {
          // Lines before the included file's first Host line belong to the including block; its
          // own Host blocks follow, and then the including block continues.
          const outer = entries[entries.length - 1]!;
          const sub = parseSshConfig(inc, readInclude, depth + 1);
          outer.options.push(...sub[0]!.options);
          if (sub.length > 1) entries.push(...sub.slice(1), { patterns: outer.patterns, options: [] });
        }
      }
    } else if (!skipping && KNOWN.has(key)) {
      entries[entries.length - 1]!.options.push([key, unquote(value)]);
    }
  }
  return entries;
}

/** Texts of the files an Include pattern names: relative to ~/.ssh; "*" globs the file name. */
function includedTexts(pattern: string): string[] {
  return includeFiles(pattern).flatMap((f) => {
    try {
      return [readFileSync(f, 'utf8')];
    } catch {
      return [];
    }
  });
}

function includeFiles(pattern: string): string[] {
  const p = pattern.startsWith('~/') ? join(homedir(), pattern.slice(2)) : isAbsolute(pattern) ? pattern : join(homedir(), '.ssh', pattern);
  if (!p.includes('*') && !p.includes('?')) return existsSync(p) ? [p] : [];
  const dir = dirname(p);
  const re = globRegExp(basename(p));
  try {
    return readdirSync(dir)
      .filter((f) => re.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function globRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** OpenSSH pattern-list matching: any positive pattern matches and no negated one does. */
export function hostMatches(patterns: string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globRegExp(p.slice(1)).test(host)) return false;
    } else if (globRegExp(p).test(host)) matched = true;
  }
  return matched;
}

function expandTokens(v: string, ctx: { host: string; alias: string; user?: string; port?: number }): string {
  return v.replace(/%([%hnrpd])/g, (_, t: string) => {
    if (t === '%') return '%';
    if (t === 'h') return ctx.host;
    if (t === 'n') return ctx.alias;
    if (t === 'r') return ctx.user ?? '';
    if (t === 'p') return String(ctx.port ?? 22);
    return homedir();
  });
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** What `ssh <alias>` would use for the settings this module knows. */
export function resolveSshHost(entries: SshConfigEntry[], alias: string): SshHostConfig {
  const first = new Map<string, string>();
  const identityFiles: string[] = [];
  for (const e of entries) {
    if (!hostMatches(e.patterns, alias)) continue;
    for (const [k, v] of e.options) {
      if (k === 'identityfile') identityFiles.push(v);
      else if (!first.has(k)) first.set(k, v);
    }
  }
  const host = first.has('hostname') ? expandTokens(first.get('hostname')!, { host: alias, alias }) : alias;
  const user = first.get('user');
  const portText = first.get('port');
  const port = portText && /^\d+$/.test(portText) ? Number(portText) : undefined;
  const tctx = { host, alias, ...(user ? { user } : {}), ...(port ? { port } : {}) };
  const out: SshHostConfig = { identityFiles: identityFiles.map((f) => expandHome(expandTokens(f, tctx))) };
  if (first.has('hostname')) out.hostName = host;
  if (user) out.user = user;
  if (port) out.port = port;
  const agent = first.get('identityagent');
  if (agent) out.identityAgent = agent === 'SSH_AUTH_SOCK' ? (process.env.SSH_AUTH_SOCK ?? '') : expandHome(expandTokens(agent, tctx));
  const jump = first.get('proxyjump');
  if (jump)
    out.proxyJump =
      jump.toLowerCase() === 'none'
        ? []
        : jump
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
  const kh = first.get('userknownhostsfile');
  if (kh) out.userKnownHostsFile = expandHome(expandTokens(splitArgs(kh)[0]!, tctx));
  return out;
}

/** A ProxyJump hop: [user@]host[:port] (also ssh://[user@]host[:port]). */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number } {
  const s = spec.replace(/^ssh:\/\//, '');
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at) : undefined;
  let rest = at >= 0 ? s.slice(at + 1) : s;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      rest = m[1]!;
      port = Number(m[2]);
    }
  }
  return { ...(user ? { user } : {}), host: rest, ...(port ? { port } : {}) };
}

/** Reads and parses a config file; a missing file is an empty config. */
export function loadSshConfig(file: string): SshConfigEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return parseSshConfig(text);
}
