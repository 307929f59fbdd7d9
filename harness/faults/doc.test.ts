// docs/fault-catalogue.md is the catalogue as it is: regenerate it with npm run docs:faults.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { faultCatalogueMarkdown } from './doc.ts';

it('docs/fault-catalogue.md is the catalogue (npm run docs:faults)', () => {
  const root = resolve(import.meta.dirname, '../..');
  expect(readFileSync(resolve(root, 'docs/fault-catalogue.md'), 'utf8')).toBe(faultCatalogueMarkdown(root));
});
