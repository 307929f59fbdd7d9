// A YAML document with typed, line-aware field access for the component configuration parsers:
// a field of the wrong type is a problem at its line, never an exception.
import { LineCounter, isMap, parseDocument } from 'yaml';
import { type ParseProblem, Problems } from './problem.ts';

export class YamlDoc {
  readonly file: string;
  readonly problems: Problems;
  readonly data: Record<string, unknown>;
  /** False when the text is not YAML or not a mapping at the top. */
  readonly ok: boolean;
  private readonly doc: ReturnType<typeof parseDocument>;
  private readonly lines: LineCounter;

  constructor(text: string, file: string) {
    this.file = file;
    this.problems = new Problems(file);
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: false });
    for (const e of this.doc.errors) this.problems.add(`not valid YAML: ${e.message.split('\n')[0]}`, e.linePos?.[0].line);
    for (const w of this.doc.warnings) this.problems.add(`YAML warning: ${w.message.split('\n')[0]}`, w.linePos?.[0].line);
    const js = this.doc.errors.length ? undefined : (this.doc.toJS({ maxAliasCount: 100 }) as unknown);
    this.ok = js !== null && typeof js === 'object' && !Array.isArray(js);
    this.data = this.ok ? (js as Record<string, unknown>) : {};
    if (!this.doc.errors.length && !this.ok && text.trim()) this.problems.add('not a YAML mapping at the top level', 1);
    if (!text.trim()) this.problems.add('empty file');
    if (this.doc.contents && isMap(this.doc.contents)) {
      const seen = new Set<string>();
      for (const item of this.doc.contents.items) {
        const k = String((item.key as { value?: unknown } | null)?.value ?? item.key);
        if (seen.has(k)) this.problems.add(`key ${k} appears twice: the last one is used`, this.lineOf([k]));
        seen.add(k);
      }
    }
  }

  lineOf(path: readonly string[]): number | undefined {
    const node = this.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const pair = node?.range;
    return pair ? this.lines.linePos(pair[0]).line : undefined;
  }

  raw(path: readonly string[]): unknown {
    let v: unknown = this.data;
    for (const k of path) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    return v;
  }

  private wrong(path: readonly string[], want: string, v: unknown): undefined {
    this.problems.add(`${path.join('.')} should be ${want}, is ${JSON.stringify(v)}`, this.lineOf(path));
    return undefined;
  }

  str(path: readonly string[]): string | undefined {
    const v = this.raw(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return this.wrong(path, 'a string', v);
  }

  num(path: readonly string[]): number | undefined {
    const v = this.raw(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v.trim()))
      return this.wrong(path, 'a number (it is quoted: Kubernetes refuses a string here)', v);
    return this.wrong(path, 'a number', v);
  }

  bool(path: readonly string[]): boolean | undefined {
    const v = this.raw(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    return this.wrong(path, 'true or false', v);
  }

  strList(path: readonly string[]): string[] | undefined {
    const v = this.raw(path);
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    return this.wrong(path, 'a list of strings', v);
  }

  /** kind/apiVersion check for component configuration files. */
  expectKind(kind: string, groups: readonly string[]): { kind?: string; apiVersion?: string } {
    const k = this.str(['kind']);
    const a = this.str(['apiVersion']);
    if (!this.ok) return {};
    if (k !== kind) this.problems.add(`kind is ${k ?? 'missing'}, expected ${kind}`, this.lineOf(['kind']) ?? 1);
    if (!a) this.problems.add(`apiVersion is missing (expected ${groups.join(' or ')})`, 1);
    else if (!groups.includes(a))
      this.problems.add(`apiVersion ${a} is not one this Kubernetes reads (${groups.join(', ')})`, this.lineOf(['apiVersion']));
    return { ...(k ? { kind: k } : {}), ...(a ? { apiVersion: a } : {}) };
  }

  list(): ParseProblem[] {
    return this.problems.list;
  }
}
