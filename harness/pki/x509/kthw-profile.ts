// The certificate profile of Kubernetes The Hard Way (chapter 04), as data: for each certificate
// its subject, its v3 extensions and its SANs, and for the CA its own. openSslConfig() writes the
// OpenSSL configuration KTHW's recipe runs against; compare-kthw-ca-conf.ts checks that it
// agrees, field by field, with KTHW's own ca.conf. KTHW's defects are kept on purpose: the
// openssl recipe test shows what hardway reports about them.

export type Field = [key: string, value: string];

export interface KthwCert {
  /** The section name, also the file stem in the recipe (admin.key, admin.csr, admin.crt). */
  id: string;
  /** Subject attributes in the order they appear (the order of the certificate's RDNs). */
  subject: Field[];
  /** The request-extensions section: its name and fields. Several certificates share one. */
  extensions: { section: string; fields: Field[] };
  /** A separate alt-names section (the API server's), when subjectAltName points at one. */
  altNames?: { section: string; fields: Field[] };
}

const WA: Field[] = [
  ['C', 'US'],
  ['ST', 'Washington'],
  ['L', 'Seattle'],
];

export const KTHW_CA = {
  subject: [...WA, ['CN', 'CA']] as Field[],
  extensions: {
    section: 'ca_x509_extensions',
    fields: [
      ['basicConstraints', 'CA:TRUE'],
      ['keyUsage', 'cRLSign, keyCertSign'],
    ] as Field[],
  },
};

/** What every client-only certificate (admin, service-accounts) requests. */
const CLIENT_DEFAULTS = {
  section: 'default_req_extensions',
  fields: [
    ['basicConstraints', 'CA:FALSE'],
    ['extendedKeyUsage', 'clientAuth'],
    ['keyUsage', 'critical, digitalSignature, keyEncipherment'],
    ['nsCertType', 'client'],
    ['nsComment', '"Admin Client Certificate"'],
    ['subjectKeyIdentifier', 'hash'],
  ] as Field[],
};

/** Component certificates: both usages, a netscape type and comment, and localhost among the SANs. */
function component(id: string, comment: string, nsCertType: string, san: string): KthwCert['extensions'] {
  return {
    section: `${id}_req_extensions`,
    fields: [
      ['basicConstraints', 'CA:FALSE'],
      ['extendedKeyUsage', 'clientAuth, serverAuth'],
      ['keyUsage', 'critical, digitalSignature, keyEncipherment'],
      ['nsCertType', nsCertType],
      ['nsComment', `"${comment}"`],
      ['subjectAltName', san],
      ['subjectKeyIdentifier', 'hash'],
    ],
  };
}

const node = (n: string): KthwCert => ({
  id: n,
  subject: [['CN', `system:node:${n}`], ['O', 'system:nodes'], ...WA],
  extensions: component(n, `${n[0]!.toUpperCase()}${n.slice(1)} Certificate`, 'client', `DNS:${n}, IP:127.0.0.1`),
});

export const KTHW_CERTS: KthwCert[] = [
  {
    id: 'admin',
    subject: [
      ['CN', 'admin'],
      ['O', 'system:masters'],
    ],
    extensions: CLIENT_DEFAULTS,
  },
  { id: 'service-accounts', subject: [['CN', 'service-accounts']], extensions: CLIENT_DEFAULTS },
  node('node-0'),
  node('node-1'),
  {
    id: 'kube-proxy',
    subject: [['CN', 'system:kube-proxy'], ['O', 'system:node-proxier'], ...WA],
    extensions: component('kube-proxy', 'Kube Proxy Certificate', 'client', 'DNS:kube-proxy, IP:127.0.0.1'),
  },
  {
    id: 'kube-controller-manager',
    subject: [['CN', 'system:kube-controller-manager'], ['O', 'system:kube-controller-manager'], ...WA],
    extensions: component(
      'kube-controller-manager',
      'Kube Controller Manager Certificate',
      'client',
      'DNS:kube-controller-manager, IP:127.0.0.1',
    ),
  },
  {
    // KTHW's group is "system:system:kube-scheduler" (one "system:" too many); RBAC binds the user.
    id: 'kube-scheduler',
    subject: [['CN', 'system:kube-scheduler'], ['O', 'system:system:kube-scheduler'], ...WA],
    extensions: component('kube-scheduler', 'Kube Scheduler Certificate', 'client', 'DNS:kube-scheduler, IP:127.0.0.1'),
  },
  {
    id: 'kube-api-server',
    subject: [['CN', 'kubernetes'], ...WA],
    extensions: component('kube-api-server', 'Kube API Server Certificate', 'client, server', '@kube-api-server_alt_names'),
    altNames: {
      section: 'kube-api-server_alt_names',
      // "kubernetes.svc.cluster.local" and "kubernetes.default.svc.cluster" as KTHW has them, not
      // the service's real name kubernetes.default.svc.cluster.local.
      fields: [
        ['IP.0', '127.0.0.1'],
        ['IP.1', '10.32.0.1'],
        ['DNS.0', 'kubernetes'],
        ['DNS.1', 'kubernetes.default'],
        ['DNS.2', 'kubernetes.default.svc'],
        ['DNS.3', 'kubernetes.default.svc.cluster'],
        ['DNS.4', 'kubernetes.svc.cluster.local'],
        ['DNS.5', 'server.kubernetes.local'],
        ['DNS.6', 'api-server.kubernetes.local'],
      ],
    },
  },
];

/** The OpenSSL configuration: [req] for the CA, then per certificate its request section, DN and extensions. */
export function openSslConfig(): string {
  const out: string[] = [];
  const section = (name: string, fields: Field[]) => {
    out.push(`[${name}]`, ...fields.map(([k, v]) => `${k} = ${v}`), '');
  };
  section('req', [
    ['distinguished_name', 'req_distinguished_name'],
    ['prompt', 'no'],
    ['x509_extensions', KTHW_CA.extensions.section],
  ]);
  section(KTHW_CA.extensions.section, KTHW_CA.extensions.fields);
  section('req_distinguished_name', KTHW_CA.subject);
  const written = new Set<string>();
  for (const c of KTHW_CERTS) {
    section(c.id, [
      ['distinguished_name', `${c.id}_distinguished_name`],
      ['prompt', 'no'],
      ['req_extensions', c.extensions.section],
    ]);
    if (!written.has(c.extensions.section)) {
      written.add(c.extensions.section);
      section(c.extensions.section, c.extensions.fields);
    }
    if (c.altNames) section(c.altNames.section, c.altNames.fields);
    section(`${c.id}_distinguished_name`, c.subject);
  }
  return out.join('\n');
}

/** An OpenSSL config as sections of ordered fields (comments and blank lines dropped). */
export function parseOpenSslConfig(text: string): Map<string, Field[]> {
  const out = new Map<string, Field[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const s = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (s) {
      current = s[1]!;
      if (!out.has(current)) out.set(current, []);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    if (!out.has(current)) out.set(current, []);
    out.get(current)!.push([
      line.slice(0, eq).trim(),
      line
        .slice(eq + 1)
        .trim()
        .replace(/\s*,\s*/g, ', '),
    ]);
  }
  return out;
}

/** Every difference between two configs, one line each ("[section] key: a vs b"); empty when they agree. */
export function compareOpenSslConfigs(mine: string, theirs: string): string[] {
  const a = parseOpenSslConfig(mine);
  const b = parseOpenSslConfig(theirs);
  const diffs: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const fa = a.get(name);
    const fb = b.get(name);
    if (!fa) {
      diffs.push(`[${name}] only in ca.conf`);
      continue;
    }
    if (!fb) {
      diffs.push(`[${name}] only in the generated config`);
      continue;
    }
    const keys = [...new Set([...fa.map((f) => f[0]), ...fb.map((f) => f[0])])];
    for (const k of keys) {
      const va = fa.find((f) => f[0] === k)?.[1];
      const vb = fb.find((f) => f[0] === k)?.[1];
      if (va !== vb) diffs.push(`[${name}] ${k}: generated ${va ?? '(absent)'} vs ca.conf ${vb ?? '(absent)'}`);
    }
    // Subject order decides the RDN order of the certificate.
    if (name.endsWith('distinguished_name') && fa.map((f) => f[0]).join() !== fb.map((f) => f[0]).join()) {
      diffs.push(`[${name}] order: generated ${fa.map((f) => f[0]).join(',')} vs ca.conf ${fb.map((f) => f[0]).join(',')}`);
    }
  }
  return diffs;
}
