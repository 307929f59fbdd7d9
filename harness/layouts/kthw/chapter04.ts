// An existing chapter-04 folder (ca.crt, ca.key, admin.crt, admin.key, node-0.crt, ...,
// service-accounts.key: what KTHW's openssl commands write) taken as the cluster's PKI, laid out
// as it is instead of issuing: `hardway render --layout kthw --pki <dir>`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertPlan, CertSpec } from '../../pki/plan.ts';
import type { IssuedCert, Pki } from '../../pki/issue.ts';
import { parseCertificates, readPrivateKey } from '../../pki/keys.ts';
import { UserFacingError } from '../../cli/errors.ts';

function read(dir: string, name: string, plan: CertPlan): string {
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch (e) {
    const names = ['ca', ...plan.certs.map((s) => s.id)].flatMap((s) => [`${s}.crt`, `${s}.key`]).join(' ');
    throw new UserFacingError(
      `${join(dir, name)}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)}); a chapter-04 folder holds ${names}; fix: run chapter 04's openssl commands there, or pass the folder that has them`,
    );
  }
}

async function pair(dir: string, spec: CertSpec, stem: string, plan: CertPlan): Promise<IssuedCert> {
  const certPem = read(dir, `${stem}.crt`, plan);
  if (!parseCertificates(certPem).length)
    throw new UserFacingError(`${join(dir, `${stem}.crt`)}: no PEM certificate in it; fix: pass chapter 04's output folder`);
  const keyPem = read(dir, `${stem}.key`, plan);
  const key = await readPrivateKey(keyPem).catch((e: Error) => {
    throw new UserFacingError(`${join(dir, `${stem}.key`)}: ${e.message}; fix: pass chapter 04's output folder`);
  });
  return { spec, certPem, key };
}

/** The plan's certificates read from `dir` by KTHW's file names, unchanged. */
export async function readChapter04(dir: string, plan: CertPlan): Promise<Pki> {
  const ca = await pair(dir, plan.ca, 'ca', plan);
  const certs = new Map(await Promise.all(plan.certs.map(async (s) => [s.id, await pair(dir, s, s.id, plan)] as const)));
  return { ca, certs };
}
