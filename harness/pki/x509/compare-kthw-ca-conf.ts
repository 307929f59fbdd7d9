// Local check, not a test: does the OpenSSL config hardway generates from its KTHW profile
// (kthw-profile.ts) agree with Kubernetes The Hard Way's own ca.conf, field by field?
//   node harness/pki/x509/compare-kthw-ca-conf.ts <path-to-ca.conf>
// KTHW's file is read where it lies and never copied into this repository.
import { readFileSync } from 'node:fs';
import { compareOpenSslConfigs, openSslConfig, parseOpenSslConfig } from './kthw-profile.ts';

const path = process.argv[2];
if (!path) {
  console.error('usage: node harness/pki/x509/compare-kthw-ca-conf.ts <path-to-ca.conf>');
  process.exit(2);
}
let theirs: string;
try {
  theirs = readFileSync(path, 'utf8');
} catch (e) {
  console.error(`cannot read ${path}: ${(e as Error).message}`);
  process.exit(2);
}
const mine = openSslConfig();
const diffs = compareOpenSslConfigs(mine, theirs);
const sections = parseOpenSslConfig(theirs);
const fields = [...sections.values()].reduce((n, f) => n + f.length, 0);
if (diffs.length) {
  for (const d of diffs) console.log(d);
  console.log(`${diffs.length} difference(s) with ${path}`);
  process.exit(1);
}
console.log(`${path}: all ${sections.size} sections and ${fields} fields agree with the generated config`);
