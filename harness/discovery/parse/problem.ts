// What every discovery parser returns: typed data plus the problems met on the way. Parsers never
// throw on bad input: an unparseable file becomes a problem naming the file (and the line).

export interface ParseProblem {
  /** The file (or command output) the problem is in, as the caller named it. */
  file: string;
  /** 1-based line, where the problem has one. */
  line?: number;
  message: string;
}

export interface Parsed<T> {
  value: T;
  problems: ParseProblem[];
}

/** Collects problems for one file; `at(line, msg)` and `add(msg)` keep call sites short. */
export class Problems {
  readonly list: ParseProblem[] = [];
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  add(message: string, line?: number, file?: string): void {
    this.list.push({ file: file ?? this.file, ...(line !== undefined ? { line } : {}), message });
  }

  push(...problems: ParseProblem[]): void {
    this.list.push(...problems);
  }
}

/** 1-based line of a character offset in a text. */
export function lineAt(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
