// The reference installer's first half: from the cluster model, everything each host needs, as a
// tree that mirrors absolute paths on that host (OUT/<host>/var/lib/kubernetes/ca.pem, ...), laid
// out as the model's layout says (harness/layouts: the seed's or KTHW's).
// OUT/_pki keeps the issued CA, keys and token so that re-rendering reuses them.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Cluster, allHosts } from '../model/cluster.ts';
import { type CertPlan, certPlan } from '../pki/plan.ts';
import { type ExistingPki, type Pki, issuePki } from '../pki/issue.ts';
import type { RenderOptions } from '../layouts/layout.ts';
import { layoutFor } from '../layouts/index.ts';
import { type OutFile, checkOutDir, planOut, readManifest, withOutDirLock, writeOutDir, writeProblem } from './out-dir.ts';

export interface TreeFile {
  path: string;
  content: string;
  /** 0o600 for keys, tokens and kubeconfigs; 0o755 for scripts; 0o644 otherwise. */
  mode: number;
}

export interface Rendering {
  cluster: Cluster;
  plan: CertPlan;
  pki: Pki;
  token?: string;
  /** KTHW's data encryption key (layout kthw). */
  encryptionKey?: string;
  hosts: Map<string, TreeFile[]>;
  /** Set by renderToDir: whether the CA came from OUT/_pki, is new (first rendering), rotated, or given (--pki). */
  caSource?: 'reused' | 'new' | 'rotated' | 'given';
}

export const PKI_DIR = '_pki';
export { FLANNEL_CONFIG_FILE } from '../layouts/seed/files.ts';

const SECRET = 0o600;
const PUBLIC = 0o644;

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw writeProblem(path, e); // unreadable is not absent: never a reason for a new CA
  }
}

/** Reads a previous rendering's CA, keys and token from OUT/_pki. */
export async function readExistingPki(
  outDir: string,
  plan: CertPlan,
): Promise<{ existing: ExistingPki; token?: string; encryptionKey?: string }> {
  const dir = join(outDir, PKI_DIR);
  const keys = new Map<string, string>();
  for (const spec of plan.certs) {
    const k = await readIfExists(join(dir, `${spec.id}-key.pem`));
    if (k) keys.set(spec.id, k);
  }
  const caCert = await readIfExists(join(dir, 'ca.pem'));
  const caKey = await readIfExists(join(dir, 'ca-key.pem'));
  const token = (await readIfExists(join(dir, 'token')))?.trim();
  const encryptionKey = (await readIfExists(join(dir, 'encryption-key')))?.trim();
  const files = { caCert: join(dir, 'ca.pem'), caKey: join(dir, 'ca-key.pem'), key: (id: string) => join(dir, `${id}-key.pem`) };
  const hadCa = !!readManifest(outDir)?.has(`${PKI_DIR}/ca.pem`) || existsSync(files.caCert) || existsSync(files.caKey);
  return {
    existing: { ...(caCert ? { caCert } : {}), ...(caKey ? { caKey } : {}), keys, files, hadCa },
    ...(token ? { token } : {}),
    ...(encryptionKey ? { encryptionKey } : {}),
  };
}

export interface RenderInput {
  /** An earlier rendering's CA and keys to reuse. */
  existing?: ExistingPki;
  /** Certificates and keys to lay out as they are, instead of issuing (a KTHW chapter-04 folder). */
  pki?: Pki;
  token?: string;
  encryptionKey?: string;
  options?: RenderOptions;
}

export async function render(c: Cluster, opts: RenderInput = {}): Promise<Rendering> {
  const layout = layoutFor(c);
  const plan = layout.certPlan(c);
  const pki = opts.pki ?? (await issuePki(plan, opts.existing));
  const secrets = layout.secrets(c, {
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.encryptionKey ? { encryptionKey: opts.encryptionKey } : {}),
  });
  const options = opts.options ?? {};
  const hosts = new Map(allHosts(c).map((h) => [h.host, layout.hostFiles({ cluster: c, host: h, plan, pki, secrets, options })]));
  return { cluster: c, plan, pki, ...secrets, hosts };
}

/** Writes the per-host trees and the PKI folder under the render folder rules (out-dir.ts). */
export async function writeRendering(r: Rendering, outDir: string): Promise<void> {
  const files: OutFile[] = [];
  for (const [host, list] of r.hosts) for (const f of list) files.push({ path: `${host}${f.path}`, content: f.content, mode: f.mode });
  const pki = (name: string, content: string, mode: number) => files.push({ path: `${PKI_DIR}/${name}`, content, mode });
  pki('ca.pem', r.pki.ca.certPem, PUBLIC);
  pki('ca-key.pem', r.pki.ca.key.pem, SECRET);
  for (const [id, cert] of r.pki.certs) {
    pki(`${id}.pem`, cert.certPem, PUBLIC);
    pki(`${id}-key.pem`, cert.key.pem, SECRET);
  }
  if (r.token) pki('token', `${r.token}\n`, SECRET);
  if (r.encryptionKey) pki('encryption-key', `${r.encryptionKey}\n`, SECRET);
  await writeOutDir(outDir, files);
}

/** `hardway render`: keeps the CA, keys and token of an earlier rendering unless rotateCa. */
export async function renderToDir(
  c: Cluster,
  outDir: string,
  rotateCa = false,
  extra: Pick<RenderInput, 'pki' | 'options'> = {},
): Promise<Rendering> {
  const dir = checkOutDir(outDir);
  return withOutDirLock(dir, async () => {
    planOut(dir, []); // a foreign folder is refused before any key is generated
    const plan = certPlan(c);
    const prev = rotateCa ? { existing: { keys: new Map<string, string>() } } : await readExistingPki(dir, plan);
    const kept = rotateCa
      ? {}
      : { ...(prev.token ? { token: prev.token } : {}), ...(prev.encryptionKey ? { encryptionKey: prev.encryptionKey } : {}) };
    const r = await render(c, { existing: prev.existing, ...kept, ...extra });
    await writeRendering(r, dir);
    return { ...r, caSource: extra.pki ? 'given' : rotateCa ? 'rotated' : prev.existing.caCert ? 'reused' : 'new' };
  });
}
