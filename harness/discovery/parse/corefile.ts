// The Corefile: Caddyfile syntax as CoreDNS's caddy fork lexes and parses it (caddyfile/lexer.go,
// parse.go), then the plugins checks read. Lexing: tokens split at whitespace, "#" starts a
// comment wherever it appears outside quotes, quotes only open a token, inside them \" is a quote
// and other backslashes stay. Parsing: server blocks "key[, key...] {" ... "}", a line's first
// token is a directive and the rest of that line its arguments, a trailing "{" opens a nested block;
// "(name) { }" defines a snippet that "import name" pastes; "import <file glob>" is noted (the
// caller may read those files) but not followed.
// CoreDNS rules used below (plugin/*/setup.go at v1.14.7): a server key is [scheme://]zone[:port],
// port 53 by default; kubernetes serves the block's zones unless it names its own; forward takes
// at most 15 upstreams; health listens on :8080 and ready on :8181 unless given an address.
import { type Parsed, Problems } from './problem.ts';

interface Token {
  text: string;
  line: number;
  /** Line the token ends on (a quoted token may span lines). */
  endLine: number;
}

function lex(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = line;
    let v = '';
    if (c === '"') {
      i++;
      let escaped = false;
      while (i < text.length) {
        const ch = text[i]!;
        i++;
        if (!escaped && ch === '\\') {
          escaped = true;
          continue;
        }
        if (!escaped && ch === '"') break;
        if (ch === '\n') line++;
        if (escaped && ch !== '"') v += '\\';
        v += ch;
        escaped = false;
      }
      out.push({ text: v, line: start, endLine: line });
      continue;
    }
    while (i < text.length && !/\s/.test(text[i]!) && text[i] !== '#') v += text[i++];
    // "#" inside a token ends it and starts a comment (the lexer sets comment mode on any "#").
    out.push({ text: v, line: start, endLine: line });
  }
  return out;
}

export interface Directive {
  name: string;
  args: string[];
  line: number;
  /** The nested block, when the line ended in "{". */
  block?: Directive[];
}

export interface ServerBlock {
  keys: string[];
  line: number;
  directives: Directive[];
}

export interface Caddyfile {
  blocks: ServerBlock[];
  /** import lines naming files (not snippets), with the block they were in. */
  imports: { pattern: string; line: number }[];
  snippets: Record<string, Directive[]>;
}

class Reader {
  readonly t: Token[];
  i = 0;
  constructor(t: Token[]) {
    this.t = t;
  }
  peek(): Token | undefined {
    return this.t[this.i];
  }
  next(): Token | undefined {
    return this.t[this.i++];
  }
  /** The tokens left on the current token's line. */
  restOfLine(after: Token): Token[] {
    const out: Token[] = [];
    let end = after.endLine;
    while (this.i < this.t.length && this.t[this.i]!.line === end) {
      const tk = this.t[this.i++]!;
      out.push(tk);
      end = tk.endLine;
    }
    return out;
  }
}

function parseBlock(r: Reader, p: Problems, opened: Token | undefined): Directive[] {
  const out: Directive[] = [];
  for (;;) {
    const tk = r.next();
    if (!tk) {
      if (opened) p.add('"{" is never closed', opened.line);
      return out;
    }
    if (tk.text === '}') {
      if (!opened) p.add('"}" without a matching "{"', tk.line);
      return out;
    }
    const args = r.restOfLine(tk).map((x) => x.text);
    const d: Directive = { name: tk.text, args, line: tk.line };
    if (args[args.length - 1] === '{') {
      d.args = args.slice(0, -1);
      d.block = parseBlock(r, p, tk);
    }
    out.push(d);
  }
}

/** The Caddyfile structure of a Corefile, with snippets pasted where imported. */
export function parseCaddyfile(text: string, file: string): Parsed<Caddyfile> {
  const p = new Problems(file);
  const r = new Reader(lex(text));
  const blocks: ServerBlock[] = [];
  const snippets: Record<string, Directive[]> = {};
  while (r.peek()) {
    const first = r.next()!;
    if (first.text === '{' || first.text === '}') {
      p.add(`unexpected "${first.text}" where a server block's address belongs`, first.line);
      continue;
    }
    let keyTokens = [first, ...r.restOfLine(first)];
    // "a, b," continues on the next line.
    while (keyTokens[keyTokens.length - 1]?.text.endsWith(',') && r.peek()) {
      const more = r.next()!;
      keyTokens = [...keyTokens, more, ...r.restOfLine(more)];
    }
    let opened: Token | undefined;
    if (keyTokens[keyTokens.length - 1]?.text === '{') opened = keyTokens.pop();
    else if (r.peek()?.text === '{') opened = r.next();
    const keys = keyTokens
      .flatMap((k) => k.text.split(','))
      .map((k) => k.trim())
      .filter(Boolean);
    if (!opened) {
      // Without braces the whole file is one server block (only allowed when it is the only one).
      if (blocks.length) p.add(`server block ${keys.join(' ')} has no "{"`, first.line);
      const directives = parseBlock(r, p, undefined);
      blocks.push({ keys, line: first.line, directives });
      continue;
    }
    const directives = parseBlock(r, p, opened);
    const snippet = keys.length === 1 ? /^\((.+)\)$/.exec(keys[0]!) : null;
    if (snippet) snippets[snippet[1]!] = directives;
    else blocks.push({ keys, line: first.line, directives });
  }
  const imports: Caddyfile['imports'] = [];
  const paste = (ds: Directive[], depth: number): Directive[] =>
    ds.flatMap((d) => {
      if (d.name !== 'import') return [{ ...d, ...(d.block ? { block: paste(d.block, depth) } : {}) }];
      const name = d.args[0];
      if (!name) {
        p.add('import without an argument', d.line);
        return [];
      }
      const s = snippets[name];
      if (s) {
        if (depth > 10) {
          p.add(`import ${name} nests too deep (a snippet importing itself?)`, d.line);
          return [];
        }
        return paste(s, depth + 1);
      }
      imports.push({ pattern: name, line: d.line });
      return [];
    });
  for (const b of blocks) b.directives = paste(b.directives, 0);
  return { value: { blocks, imports, snippets }, problems: p.list };
}

// ---------------------------------------------------------------------------------------------
// CoreDNS's reading of it

export interface KubernetesPlugin {
  zones: string[];
  kubeconfig?: string;
  /** The kubeconfig's context, when the kubeconfig line names one. */
  context?: string;
  /** Only the first endpoint is used (CoreDNS warns about the others). */
  endpoint?: string;
  tls?: { cert?: string; key?: string; ca?: string };
  fallthrough?: string[];
  line: number;
}

export interface ForwardPlugin {
  from: string;
  to: string[];
  line: number;
  options: Directive[];
}

export interface HostsPlugin {
  file: string;
  zones: string[];
  /** Inline "address name..." entries. */
  entries: { address: string; names: string[] }[];
  fallthrough?: string[];
  line: number;
}

export interface CorednsServer {
  keys: string[];
  /** Zones as FQDNs ("cluster.local.", "."). */
  zones: string[];
  /** Every key as CoreDNS reads it: a block's keys may listen on different ports. */
  addresses: { transport: string; zone: string; port: number }[];
  /** The distinct ports the block listens on. */
  ports: number[];
  line: number;
  plugins: Directive[];
  kubernetes?: KubernetesPlugin;
  forward: ForwardPlugin[];
  /** host:port health listens on (":8080" when not set). */
  health?: string;
  ready?: string;
  hosts?: HostsPlugin;
}

export interface Corefile {
  servers: CorednsServer[];
  imports: { pattern: string; line: number }[];
}

const fqdn = (z: string) => (z.endsWith('.') ? z.toLowerCase() : `${z.toLowerCase()}.`);

/** One server key: "dns://.:53", "cluster.local:5300", "10.0.0.0/24" (a reverse zone). */
export function parseServerKey(key: string, defaultPort = 53): { transport: string; zone: string; port: number } | undefined {
  const m = /^(?:([a-z]+):\/\/)?(.*?)(?::(\d+))?$/.exec(key);
  if (!m) return undefined;
  const transport = m[1] ?? 'dns';
  let zone = m[2] || '.';
  const port = m[3] ? Number(m[3]) : transport === 'tls' ? 853 : transport === 'https' ? 443 : transport === 'grpc' ? 443 : defaultPort;
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(zone);
  if (cidr) {
    // A /8, /16 or /24 becomes its in-addr.arpa zone (other lengths: several zones; kept as written).
    const len = Number(cidr[2]);
    if (len % 8 === 0 && len <= 24)
      zone = `${cidr[1]!
        .split('.')
        .slice(0, len / 8)
        .reverse()
        .join('.')}.in-addr.arpa`;
  }
  return { transport, zone: fqdn(zone), port };
}

function sub(d: Directive, name: string): Directive | undefined {
  return d.block?.find((x) => x.name === name);
}

export function parseCorefile(text: string, file: string, opts: { defaultPort?: number } = {}): Parsed<Corefile> {
  const cf = parseCaddyfile(text, file);
  const p = new Problems(file);
  p.push(...cf.problems);
  const servers: CorednsServer[] = [];
  for (const b of cf.value.blocks) {
    const parsedKeys = b.keys.map((k) => ({ k, v: parseServerKey(k, opts.defaultPort) }));
    for (const x of parsedKeys) if (!x.v) p.add(`server key ${x.k} is not [scheme://]zone[:port]`, b.line);
    const ok = parsedKeys.flatMap((x) => (x.v ? [x.v] : []));
    const zones = ok.map((x) => x.zone);
    const s: CorednsServer = {
      keys: b.keys,
      zones,
      addresses: ok,
      ports: [...new Set(ok.map((x) => x.port))],
      line: b.line,
      plugins: b.directives,
      forward: [],
    };
    const seen = new Map<string, number>();
    for (const d of b.directives) {
      if (d.name === 'kubernetes') {
        if (s.kubernetes) p.add('kubernetes appears twice in one server block', d.line);
        const kc = sub(d, 'kubeconfig');
        if (kc && (kc.args.length < 1 || kc.args.length > 2)) p.add('kubernetes: kubeconfig takes a file and an optional context', kc.line);
        const ep = sub(d, 'endpoint');
        if (ep && ep.args.length > 1) p.add(`kubernetes: several endpoints given, CoreDNS uses only ${ep.args[0]}`, ep.line);
        const tls = sub(d, 'tls');
        const ft = sub(d, 'fallthrough');
        s.kubernetes = {
          zones: d.args.length ? d.args.map(fqdn) : zones,
          ...(kc?.args[0] ? { kubeconfig: kc.args[0] } : {}),
          ...(kc?.args[1] ? { context: kc.args[1] } : {}),
          ...(ep?.args[0] ? { endpoint: ep.args[0] } : {}),
          ...(tls
            ? {
                tls: {
                  ...(tls.args[0] ? { cert: tls.args[0] } : {}),
                  ...(tls.args[1] ? { key: tls.args[1] } : {}),
                  ...(tls.args[2] ? { ca: tls.args[2] } : {}),
                },
              }
            : {}),
          ...(ft ? { fallthrough: ft.args.map(fqdn) } : {}),
          line: d.line,
        };
      } else if (d.name === 'forward') {
        const [from, ...to] = d.args;
        if (!from || to.length === 0) p.add('forward needs a zone and at least one upstream', d.line);
        else {
          if (to.length > 15) p.add(`forward has ${to.length} upstreams: CoreDNS refuses more than 15`, d.line);
          s.forward.push({ from: fqdn(from), to, line: d.line, options: d.block ?? [] });
        }
      } else if (d.name === 'health' || d.name === 'ready') {
        if (d.args.length > 1) p.add(`${d.name} takes at most one address`, d.line);
        const addr = d.args[0] ?? (d.name === 'health' ? ':8080' : ':8181');
        if (!/^(\[[^\]]+\]|[^:]*):\d+$/.test(addr)) p.add(`${d.name} address ${addr} is not host:port`, d.line);
        s[d.name] = addr;
      } else if (d.name === 'hosts') {
        const [f = '/etc/hosts', ...hz] = d.args;
        const entries = (d.block ?? [])
          .filter((x) => /^[0-9a-fA-F:.]+$/.test(x.name) && /[.:]/.test(x.name))
          .map((x) => ({ address: x.name, names: x.args }));
        const ft = sub(d, 'fallthrough');
        s.hosts = {
          file: f,
          zones: hz.length ? hz.map(fqdn) : zones,
          entries,
          ...(ft ? { fallthrough: ft.args.map(fqdn) } : {}),
          line: d.line,
        };
      }
      const n = seen.get(d.name);
      if (n !== undefined && d.name !== 'forward' && !['bind', 'log', 'errors'].includes(d.name))
        p.add(`${d.name} appears twice in one server block (first at line ${n})`, d.line);
      seen.set(d.name, d.line);
    }
    servers.push(s);
  }
  return { value: { servers, imports: cf.value.imports }, problems: p.list };
}
