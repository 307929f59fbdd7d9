// Kubernetes The Hard Way's certificate profiles (its ca.conf, chapter 04) as data: subject
// attributes in ca.conf's order, extensions as openssl writes them from each section, RSA 4096
// keys, 3653 days, the CA self-signed with SHA-512 and every leaf signed with SHA-256. hardway
// issues from these (harness/pki/issue.ts), renders them as an openssl config (ca-conf.ts), and
// compare-with-kthw.ts holds them against KTHW's own ca.conf.
import type { Cluster, Host } from '../../model/cluster.ts';
import type { CertProfile } from '../../pki/plan.ts';

/** KTHW's domain: machines.txt's FQDN column is <host>.kubernetes.local. */
export const KTHW_DOMAIN = 'kubernetes.local';
export const fqdn = (h: Host) => `${h.host}.${KTHW_DOMAIN}`;

const WHERE: [string, string][] = [
  ['C', 'US'],
  ['ST', 'Washington'],
  ['L', 'Seattle'],
];
const LEAF = { keyBits: 4096, hash: 'SHA-256', days: 3653, keyFormat: 'pkcs8', basicConstraints: { ca: false } } as const;
const KEY_USAGE = { critical: true, usages: ['digitalSignature', 'keyEncipherment'] } as const;

/** One ca.conf section: the file stem of the chapter-04 output (<section>.crt, <section>.key). */
export interface KthwProfile {
  section: string;
  profile: CertProfile;
}

/** [req]: the CA (openssl req -x509 -sha512 -days 3653 with ca_x509_extensions). */
export const CA_PROFILE: CertProfile = {
  subject: [...WHERE, ['CN', 'CA']],
  keyBits: 4096,
  hash: 'SHA-512',
  days: 3653,
  keyFormat: 'pkcs8',
  basicConstraints: { ca: true },
  keyUsage: { critical: false, usages: ['keyCertSign', 'cRLSign'] },
  subjectKeyIdentifier: true,
  authorityKeyIdentifier: false,
};

/** [default_req_extensions]: admin and service-accounts (client only, "Admin Client Certificate"). */
function defaultClient(subject: [string, string][]): CertProfile {
  return {
    ...LEAF,
    subject,
    keyUsage: KEY_USAGE,
    extendedKeyUsage: ['client'],
    nsCertType: ['client'],
    nsComment: 'Admin Client Certificate',
    subjectKeyIdentifier: true,
    authorityKeyIdentifier: true,
  };
}

/** A <name>_req_extensions section: clientAuth + serverAuth, nsCertType client, SAN DNS:<dns>, IP:127.0.0.1. */
function component(subject: [string, string][], comment: string, dns: string): CertProfile {
  return {
    ...LEAF,
    subject,
    keyUsage: KEY_USAGE,
    extendedKeyUsage: ['client', 'server'],
    nsCertType: ['client'],
    nsComment: comment,
    altNames: [
      { type: 'dns', value: dns },
      { type: 'ip', value: '127.0.0.1' },
    ],
    subjectKeyIdentifier: true,
    authorityKeyIdentifier: true,
  };
}

/** "node-0" -> "Node-0 Certificate", as ca.conf comments its node sections. */
const nodeComment = (host: string) => `${host.charAt(0).toUpperCase()}${host.slice(1)} Certificate`;

/** Every leaf of chapter 04's certs=(...) list, in its order, for the cluster's hosts. */
export function kthwProfiles(c: Cluster): KthwProfile[] {
  const server = c.masters[0]!;
  return [
    {
      section: 'admin',
      profile: defaultClient([
        ['CN', 'admin'],
        ['O', 'system:masters'],
      ]),
    },
    ...c.workers.map((w) => ({
      section: w.host,
      profile: component([['CN', `system:node:${w.host}`], ['O', 'system:nodes'], ...WHERE], nodeComment(w.host), w.host),
    })),
    {
      section: 'kube-proxy',
      profile: component([['CN', 'system:kube-proxy'], ['O', 'system:node-proxier'], ...WHERE], 'Kube Proxy Certificate', 'kube-proxy'),
    },
    // KTHW's O really is "system:system:kube-scheduler"; RBAC binds the scheduler by its CN.
    {
      section: 'kube-scheduler',
      profile: component(
        [['CN', 'system:kube-scheduler'], ['O', 'system:system:kube-scheduler'], ...WHERE],
        'Kube Scheduler Certificate',
        'kube-scheduler',
      ),
    },
    {
      section: 'kube-controller-manager',
      profile: component(
        [['CN', 'system:kube-controller-manager'], ['O', 'system:kube-controller-manager'], ...WHERE],
        'Kube Controller Manager Certificate',
        'kube-controller-manager',
      ),
    },
    {
      section: 'kube-api-server',
      profile: {
        ...LEAF,
        subject: [['CN', 'kubernetes'], ...WHERE],
        keyUsage: KEY_USAGE,
        extendedKeyUsage: ['client', 'server'],
        nsCertType: ['client', 'server'],
        nsComment: 'Kube API Server Certificate',
        // [kube-api-server_alt_names], in its order (IP.0, IP.1, DNS.0 ... DNS.6), typos included:
        // "kubernetes.default.svc.cluster" and "kubernetes.svc.cluster.local" are KTHW's names.
        altNames: [
          ...['127.0.0.1', c.kubernetesServiceIP].map((value) => ({ type: 'ip' as const, value })),
          ...[
            'kubernetes',
            'kubernetes.default',
            'kubernetes.default.svc',
            'kubernetes.default.svc.cluster',
            'kubernetes.svc.cluster.local',
            fqdn(server),
            `api-server.${KTHW_DOMAIN}`,
          ].map((value) => ({ type: 'dns' as const, value })),
        ],
        subjectKeyIdentifier: true,
        authorityKeyIdentifier: true,
      },
    },
    { section: 'service-accounts', profile: defaultClient([['CN', 'service-accounts']]) },
  ];
}
