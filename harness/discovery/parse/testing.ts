// Reads a recorded fixture (fixtures/recorded/<path>) for the parser tests.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const RECORDED = resolve(import.meta.dirname, '../../../fixtures/recorded');

export function recorded(path: string): string {
  return readFileSync(resolve(RECORDED, path), 'utf8');
}
