// The seed's PKI recipe, run with the real cfssl/cfssljson: Kubernetes The Hard Way's ca-csr.json,
// ca-config.json (profile "kubernetes") and one CSR per certificate, with the seed's subject fields
// (C=RU, L=Moscow, ST=Moscow; OU "Infrastructure" for the CA, "Infrastructure Unit" below it).
// Used by cfssl.test.ts to check that the certs suite reads a PKI hardway did not issue.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Cluster, apiserverUrl } from '../../harness/model/cluster.ts';
import { certPlan } from '../../harness/pki/plan.ts';
import { kubeconfig } from '../../harness/render/kubeconfig.ts';

export const INSTALL_HINT = 'cfssl and cfssljson are needed for this test; install them with: apt-get install golang-cfssl';

/** Why cfssl cannot be used here, or undefined when cfssl and cfssljson both run. */
export function cfsslMissing(): string | undefined {
  for (const bin of ['cfssl', 'cfssljson']) {
    // Only whether the program starts matters (cfssljson has no version flag and exits 2 on -h).
    const r = spawnSync(bin, ['-h'], { stdio: 'ignore' });
    if (r.error) return `${bin} cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); ${INSTALL_HINT}`;
  }
  return undefined;
}

export interface PemPair {
  cert: string;
  key: string;
}

interface CsrDef {
  /** File stem, as the plan's spec id ("kubelet-node-1"). */
  id: string;
  cn: string;
  o: string;
  /** -hostname list (only the kubelets' and the kubernetes certificate have one). */
  hostnames?: string[];
}

const SUBJECT = { C: 'RU', L: 'Moscow', ST: 'Moscow' };

export const CA_CSR = {
  CN: 'Kubernetes',
  key: { algo: 'rsa', size: 2048 },
  names: [{ ...SUBJECT, O: 'Kubernetes', OU: 'Infrastructure' }],
};

export const CA_CONFIG = {
  signing: {
    default: { expiry: '8760h' },
    profiles: {
      kubernetes: { usages: ['signing', 'key encipherment', 'server auth', 'client auth'], expiry: '8760h' },
    },
  },
};

/** The kubernetes certificate's -hostname list, as Kubernetes The Hard Way builds it. */
export function kubernetesHostnames(c: Cluster): string[] {
  return [
    ...new Set([
      c.kubernetesServiceIP,
      ...c.masters.flatMap((m) => [m.address, m.internalAddress]),
      '127.0.0.1',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      `kubernetes.default.svc.${c.clusterDomain}`,
      ...c.masters.flatMap((m) => [m.host, m.nodeName]),
    ]),
  ];
}

/** Every CSR of the recipe, named by the hardway plan's spec ids. */
export function recipeCsrs(c: Cluster): CsrDef[] {
  return [
    { id: 'admin', cn: 'admin', o: 'system:masters' },
    ...c.workers.map((w) => ({
      id: `kubelet-${w.host}`,
      cn: `system:node:${w.nodeName}`,
      o: 'system:nodes',
      hostnames: [...new Set([w.nodeName, w.host, w.address, w.internalAddress])],
    })),
    { id: 'kube-controller-manager', cn: 'system:kube-controller-manager', o: 'system:kube-controller-manager' },
    { id: 'kube-proxy', cn: 'system:kube-proxy', o: 'system:node-proxier' },
    { id: 'kube-scheduler', cn: 'system:kube-scheduler', o: 'system:kube-scheduler' },
    { id: 'kubernetes', cn: 'kubernetes', o: 'Kubernetes', hostnames: kubernetesHostnames(c) },
    { id: 'service-account', cn: 'service-accounts', o: 'Kubernetes' },
  ];
}

function run(dir: string, args: string[], bare: string): void {
  let json: Buffer;
  try {
    json = execFileSync('cfssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as Error & { stderr?: Buffer };
    throw new Error(`cfssl ${args.join(' ')} failed: ${err.stderr?.toString() || err.message}`);
  }
  execFileSync('cfssljson', ['-bare', bare], { cwd: dir, input: json, stdio: ['pipe', 'pipe', 'pipe'] });
}

async function pair(dir: string, bare: string): Promise<PemPair> {
  return { cert: await readFile(join(dir, `${bare}.pem`), 'utf8'), key: await readFile(join(dir, `${bare}-key.pem`), 'utf8') };
}

export class CfsslPki {
  readonly dir: string;
  readonly ca: PemPair;
  /** Certificates by plan spec id. */
  readonly certs: Map<string, PemPair>;
  constructor(dir: string, ca: PemPair, certs: Map<string, PemPair>) {
    this.dir = dir;
    this.ca = ca;
    this.certs = certs;
  }

  /** Issues one more certificate from the same CA (`cfssl gencert -profile=kubernetes`). */
  async issue(csr: CsrDef, bare = csr.id): Promise<PemPair> {
    await writeFile(
      join(this.dir, `${bare}-csr.json`),
      JSON.stringify(
        {
          CN: csr.cn,
          key: { algo: 'rsa', size: 2048 },
          names: [{ ...SUBJECT, O: csr.o, OU: 'Infrastructure Unit' }],
        },
        null,
        2,
      ),
    );
    run(
      this.dir,
      [
        'gencert',
        '-ca=ca.pem',
        '-ca-key=ca-key.pem',
        '-config=ca-config.json',
        ...(csr.hostnames ? [`-hostname=${csr.hostnames.join(',')}`] : []),
        '-profile=kubernetes',
        `${bare}-csr.json`,
      ],
      bare,
    );
    return pair(this.dir, bare);
  }
}

/** Runs the whole recipe in `dir`: the CA, then every certificate of the cluster. */
export async function buildCfsslPki(c: Cluster, dir: string): Promise<CfsslPki> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ca-csr.json'), JSON.stringify(CA_CSR, null, 2));
  await writeFile(join(dir, 'ca-config.json'), JSON.stringify(CA_CONFIG, null, 2));
  run(dir, ['gencert', '-initca', 'ca-csr.json'], 'ca');
  const pki = new CfsslPki(dir, await pair(dir, 'ca'), new Map());
  for (const csr of recipeCsrs(c)) pki.certs.set(csr.id, await pki.issue(csr));
  return pki;
}

/**
 * Replaces, in a rendered tree (tree/<host>/<path>), every certificate and key at the paths the
 * plan names with the cfssl-made ones, and rewrites every kubeconfig of the plan to embed them.
 * `override` swaps single certificates (by spec id) for a variant.
 */
export async function installPki(c: Cluster, tree: string, pki: CfsslPki, override: Map<string, PemPair> = new Map()): Promise<number> {
  const plan = certPlan(c);
  const get = (id: string): PemPair => {
    const p = id === 'ca' ? pki.ca : (override.get(id) ?? pki.certs.get(id));
    if (!p) throw new Error(`the cfssl recipe made no certificate for plan entry "${id}"`);
    return p;
  };
  let written = 0;
  for (const f of plan.files) {
    const p = get(f.spec.id);
    await writeFile(join(tree, f.host, f.cert), p.cert);
    written++;
    if (f.key) {
      await writeFile(join(tree, f.host, f.key), p.key, { mode: 0o600 });
      written++;
    }
  }
  for (const k of plan.kubeconfigs) {
    const p = get(k.spec.id);
    await writeFile(
      join(tree, k.host, k.path),
      kubeconfig({
        clusterName: c.name,
        server: apiserverUrl(c),
        caPem: pki.ca.cert,
        user: k.spec.cn,
        certPem: p.cert,
        keyPem: p.key,
      }),
      { mode: 0o600 },
    );
    written++;
  }
  return written;
}
