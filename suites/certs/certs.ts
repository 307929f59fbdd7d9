// The certs suite: the seed's "Отладка сертификатов" (cfssl-certinfo by hand) made automatic.
// Every certificate the plan puts on a host is read there and checked against the CA file on the
// same host and against what its role needs. One problem = one line naming host, file and fault.
import { parse as parseYaml } from 'yaml';
import { type Cluster, allHosts } from '../../harness/model/cluster.ts';
import { type CertFile, type CertSpec, CA_CERT, CA_KEY, K8S_DIR, type KubeconfigFile, certPlan } from '../../harness/pki/plan.ts';
import { isPrivateKeyPem, parseCertificates, publicKeyDerOf, x509 } from '../../harness/pki/keys.ts';
import { type Check, type CheckContext, type Outcome, type Suite, ok, skip } from '../../harness/verify/check.ts';

const FIX_REISSUE = 'fix: re-issue it from the cluster CA (hardway render) and copy it to the host';

/** A certificate as found on a host: from a PEM file or embedded in a kubeconfig. */
interface Found {
  host: string;
  /** "path" or "path (client-certificate-data)" for kubeconfigs. */
  where: string;
  spec: CertSpec;
  cert?: x509.X509Certificate;
  certError?: string;
  keyPem?: string;
  keyWhere?: string;
  /** For kubeconfigs: the embedded CA. */
  embeddedCa?: x509.X509Certificate;
}

interface HostPki {
  host: string;
  missing: string[];
  ca?: x509.X509Certificate;
  caError?: string;
  found: Found[];
}

function parseOne(pem: string): x509.X509Certificate {
  const certs = parseCertificates(pem);
  if (!certs.length) throw new Error('no PEM certificate in the file');
  return certs[0]!;
}

function fromKubeconfig(k: KubeconfigFile, text: string): Found {
  const where = k.path;
  const f: Found = { host: k.host, where: `${where} (client-certificate-data)`, spec: k.spec, keyWhere: `${where} (client-key-data)` };
  let doc: { clusters?: { cluster?: Record<string, string> }[]; users?: { user?: Record<string, string> }[] };
  try {
    doc = parseYaml(text);
  } catch (e) {
    f.certError = `not a readable kubeconfig (${(e as Error).message.split('\n')[0]})`;
    return f;
  }
  const cluster = doc?.clusters?.[0]?.cluster ?? {};
  const user = doc?.users?.[0]?.user ?? {};
  const dec = (s?: string) => (s ? Buffer.from(s, 'base64').toString('utf8') : undefined);
  try {
    const caData = dec(cluster['certificate-authority-data']);
    if (caData) f.embeddedCa = parseOne(caData);
    const certData = dec(user['client-certificate-data']);
    if (!certData) f.certError = 'has no embedded client-certificate-data (the seed embeds certificates)';
    else f.cert = parseOne(certData);
  } catch (e) {
    f.certError = `embedded certificate is not readable (${(e as Error).message})`;
  }
  f.keyPem = dec(user['client-key-data']);
  return f;
}

/** Reads every file of the plan on one host, once per run. */
function hostPki(ctx: CheckContext, host: string): Promise<HostPki> {
  return ctx.memo(`certs:${host}`, async () => {
    const plan = certPlan(ctx.cluster);
    const h = ctx.target.host(host);
    const out: HostPki = { host, missing: [], found: [] };
    const caText = await h.readFile(CA_CERT);
    if (caText === undefined) out.missing.push(CA_CERT);
    else {
      try {
        out.ca = parseOne(caText);
      } catch (e) {
        out.caError = (e as Error).message;
      }
    }
    const files = plan.files.filter((f: CertFile) => f.host === host && f.spec.id !== 'ca');
    for (const f of files) {
      const text = await h.readFile(f.cert);
      if (text === undefined) {
        out.missing.push(f.cert);
        continue;
      }
      const found: Found = { host, where: f.cert, spec: f.spec };
      try {
        found.cert = parseOne(text);
      } catch (e) {
        found.certError = (e as Error).message;
      }
      if (f.key) {
        const key = await h.readFile(f.key);
        if (key === undefined) out.missing.push(f.key);
        else {
          found.keyPem = key;
          found.keyWhere = f.key;
        }
      }
      out.found.push(found);
    }
    if (plan.caKeyHosts.includes(host) && (await h.readFile(CA_KEY)) === undefined) out.missing.push(CA_KEY);
    for (const k of plan.kubeconfigs.filter((x) => x.host === host)) {
      const text = await h.readFile(k.path);
      if (text === undefined) out.missing.push(k.path);
      else out.found.push(fromKubeconfig(k, text));
    }
    return out;
  });
}

const hostsOf = (c: Cluster) => allHosts(c).map((h) => h.host);

function perCert(run: (f: Found, p: HostPki, ctx: CheckContext) => Promise<string[]> | string[], needsCa = false) {
  return async (ctx: CheckContext, host?: string): Promise<Outcome> => {
    const p = await hostPki(ctx, host!);
    if (needsCa && !p.ca) return skip(`${host}: no readable ${CA_CERT} to check against (see certs.present)`);
    const problems: string[] = [];
    const warnings: string[] = [];
    for (const f of p.found) {
      if (!f.cert) continue;
      for (const line of await run(f, p, ctx)) (line.startsWith('warning: ') ? warnings : problems).push(line.replace(/^warning: /, ''));
    }
    return { problems, warnings };
  };
}

const present: Check = {
  id: 'certs.present',
  title: 'every certificate, key and kubeconfig the host needs is there and readable',
  hosts: hostsOf,
  async run(ctx, host) {
    const p = await hostPki(ctx, host!);
    const problems = p.missing.map((m) => `${host}:${m}: missing; fix: copy it from the rendered tree (hardway render) to ${host}`);
    if (p.caError) problems.push(`${host}:${CA_CERT}: unreadable (${p.caError}); ${FIX_REISSUE}`);
    for (const f of p.found) if (f.certError) problems.push(`${host}:${f.where}: ${f.certError}; ${FIX_REISSUE}`);
    return { problems };
  },
};

const chain: Check = {
  id: 'certs.chain',
  title: 'every certificate is signed by the cluster CA in ca.pem',
  hosts: hostsOf,
  run: perCert(async (f, p) => {
    const ca = p.ca!;
    const signed = await f.cert!.verify({ publicKey: ca.publicKey, signatureOnly: true }).catch(() => false);
    if (signed) return [];
    const sameIssuer = f.cert!.issuer === ca.subject;
    const why = sameIssuer
      ? `issuer "${f.cert!.issuer}" matches the CA's subject but the signature does not verify: it was signed by another CA with the same name`
      : `issued by "${f.cert!.issuer}", not by the CA "${ca.subject}"`;
    return [`${p.host}:${f.where}: not signed by ${CA_CERT}: ${why}; ${FIX_REISSUE}`];
  }, true),
};

const validity: Check = {
  id: 'certs.validity',
  title: 'every certificate is inside its validity window (warns before expiry)',
  hosts: hostsOf,
  async run(ctx, host) {
    const p = await hostPki(ctx, host!);
    const now = Date.now();
    const soon = now + ctx.options.expiryWarningDays * 86400_000;
    const problems: string[] = [];
    const warnings: string[] = [];
    const certs: [string, x509.X509Certificate][] = [
      ...(p.ca ? [[CA_CERT, p.ca] as [string, x509.X509Certificate]] : []),
      ...p.found.filter((f) => f.cert).map((f) => [f.where, f.cert!] as [string, x509.X509Certificate]),
    ];
    for (const [where, c] of certs) {
      const nb = c.notBefore.getTime();
      const na = c.notAfter.getTime();
      if (nb > now) problems.push(`${host}:${where}: not valid yet (notBefore ${c.notBefore.toISOString()}); fix: check the clock where it was issued and on ${host}, then re-issue it`);
      else if (na < now) problems.push(`${host}:${where}: expired on ${c.notAfter.toISOString()}; ${FIX_REISSUE}`);
      else if (na < soon) warnings.push(`${host}:${where}: expires in ${Math.ceil((na - now) / 86400_000)} days (${c.notAfter.toISOString()}); plan its renewal`);
    }
    return { problems, warnings };
  },
};

const keyMatch: Check = {
  id: 'certs.key-match',
  title: 'every private key matches its certificate',
  hosts: hostsOf,
  run: perCert((f, p) => {
    if (f.keyPem === undefined) return [];
    if (!isPrivateKeyPem(f.keyPem)) return [`${p.host}:${f.keyWhere}: not a PEM private key; ${FIX_REISSUE}`];
    let keyPub: Buffer;
    try {
      keyPub = publicKeyDerOf(f.keyPem);
    } catch (e) {
      return [`${p.host}:${f.keyWhere}: unreadable private key (${(e as Error).message}); ${FIX_REISSUE}`];
    }
    const certPub = Buffer.from(f.cert!.publicKey.rawData);
    return keyPub.equals(certPub)
      ? []
      : [`${p.host}:${f.keyWhere}: does not match the public key of ${f.where} (the pair was mixed up or one side re-issued); fix: copy the matching pair from the rendered tree`];
  }),
};

const EKU = { server: x509.ExtendedKeyUsage.serverAuth as string, client: x509.ExtendedKeyUsage.clientAuth as string };

const usage: Check = {
  id: 'certs.usage',
  title: 'certificates carry the key usages their role needs (server/client); the CA is a CA',
  hosts: hostsOf,
  async run(ctx, host) {
    const p = await hostPki(ctx, host!);
    const problems: string[] = [];
    if (p.ca) {
      const bc = p.ca.getExtension(x509.BasicConstraintsExtension);
      if (!bc?.ca) problems.push(`${host}:${CA_CERT}: not a CA certificate (basicConstraints CA:FALSE or absent); fix: generate a proper CA`);
    }
    for (const f of p.found) {
      if (!f.cert) continue;
      const eku = f.cert.getExtension(x509.ExtendedKeyUsageExtension);
      if (!eku) continue; // no EKU extension: valid for any purpose, as TLS libraries treat it
      const have = eku.usages.map(String);
      const lacking = f.spec.usages.filter((u) => !have.includes(EKU[u]));
      if (lacking.length) {
        problems.push(`${host}:${f.where}: lacks ${lacking.map((u) => `${u}Auth`).join(' and ')} extended key usage needed by the ${f.spec.title}; ${FIX_REISSUE}`);
      }
    }
    return { problems };
  },
};

function nameOf(cert: x509.X509Certificate): { cn: string[]; o: string[] } {
  return { cn: cert.subjectName.getField('CN'), o: cert.subjectName.getField('O') };
}

const identity: Check = {
  id: 'certs.identity',
  title: 'client certificates carry the identity RBAC expects (kubelets: system:node:<name> in system:nodes)',
  hosts: hostsOf,
  run: perCert((f, p) => {
    if (!f.spec.usages.includes('client') || f.spec.id === 'kubernetes') return [];
    const { cn, o } = nameOf(f.cert!);
    const out: string[] = [];
    const isKubelet = f.spec.id.startsWith('kubelet-');
    if (!cn.includes(f.spec.cn)) {
      out.push(`${p.host}:${f.where}: CN is "${cn.join(',')}" but the ${f.spec.title} must be "${f.spec.cn}"${isKubelet ? ' (the node name kubelet registers under, --hostname-override)' : ''}; ${FIX_REISSUE}`);
    }
    if (f.spec.o && !o.includes(f.spec.o)) {
      out.push(`${p.host}:${f.where}: O is "${o.join(',')}" but the ${f.spec.title} must be in group "${f.spec.o}"; ${FIX_REISSUE}`);
    }
    return out;
  }),
};

/**
 * One spelling per address, so that a SAN and the model compare as addresses, not as text:
 * IPv6 expanded to eight lower-case groups without leading zeros ("2001:DB8::0:1" and
 * "2001:db8::1" are one address), IPv4-mapped IPv6 as its IPv4 address.
 */
export function canonicalIp(ip: string): string {
  const v = ip.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (!v.includes(':')) return v.split('.').map((o) => String(Number(o))).join('.');
  // A dotted IPv4 tail ("::ffff:10.32.0.1") becomes its two hex groups.
  const m = /^(.*?)(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  const o = m ? m[2]!.split('.').map(Number) : [];
  const hex = m ? `${m[1]}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}` : v;
  let groups: string[];
  if (hex.includes('::')) {
    const [head, tail] = hex.split('::') as [string, string];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    groups = [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  } else groups = hex.split(':');
  const n = groups.map((g) => parseInt(g, 16) || 0);
  if (n.slice(0, 5).every((g) => g === 0) && n[5] === 0xffff) return [n[6]! >> 8, n[6]! & 255, n[7]! >> 8, n[7]! & 255].join('.');
  return n.map((g) => g.toString(16)).join(':');
}

/** DNS names compare case-insensitively, without a trailing dot. */
const canonicalDns = (n: string) => n.trim().toLowerCase().replace(/\.$/, '');

function sansOf(cert: x509.X509Certificate): { dns: string[]; ip: string[] } {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const items = ext?.names.items ?? [];
  return { dns: items.filter((n) => n.type === 'dns').map((n) => canonicalDns(n.value)), ip: items.filter((n) => n.type === 'ip').map((n) => canonicalIp(n.value)) };
}

const sans: Check = {
  id: 'certs.sans',
  title: 'serving certificates cover every name and address their component is reached at',
  hosts: hostsOf,
  run: perCert((f, p) => {
    if (!f.spec.usages.includes('server') || f.where.includes('(client-certificate-data)')) return [];
    const have = sansOf(f.cert!);
    const missing = [...f.spec.dnsNames.filter((d) => !have.dns.includes(canonicalDns(d))), ...f.spec.ipAddresses.filter((i) => !have.ip.includes(canonicalIp(i)))];
    return missing.length
      ? [`${p.host}:${f.where}: subject alternative names lack ${missing.join(', ')} (the ${f.spec.title} is reached there); fix: add them to the certificate request and re-issue (hardway render)`]
      : [];
  }),
};

const kubeconfigCa: Check = {
  id: 'certs.kubeconfig-ca',
  title: 'the CA embedded in every kubeconfig is the CA in ca.pem',
  hosts: hostsOf,
  async run(ctx, host) {
    const p = await hostPki(ctx, host!);
    const ca = p.ca;
    if (!ca) return skip(`${host}: no readable ${CA_CERT} to compare with (see certs.present)`);
    const problems: string[] = [];
    for (const f of p.found.filter((x) => x.where.endsWith('(client-certificate-data)'))) {
      const path = f.where.replace(/ \(client-certificate-data\)$/, '');
      if (!f.embeddedCa) problems.push(`${host}:${path}: has no certificate-authority-data; fix: regenerate it with --embed-certs (hardway render)`);
      else if (!Buffer.from(f.embeddedCa.rawData).equals(Buffer.from(ca.rawData))) {
        problems.push(`${host}:${path}: embedded CA "${f.embeddedCa.subject}" (serial ${f.embeddedCa.serialNumber}) differs from ${CA_CERT} (serial ${ca.serialNumber}): the kubeconfig predates a CA rotation; fix: regenerate the kubeconfig from the current CA`);
      }
    }
    return problems.length ? { problems } : ok();
  },
};

const caKeyPlacement: Check = {
  id: 'certs.ca-key-placement',
  title: 'no CA private key sits on a worker',
  hosts: (c) => c.workers.map((w) => w.host),
  async run(ctx, host) {
    const h = ctx.target.host(host!);
    const p = await hostPki(ctx, host!);
    const caPub = p.ca ? Buffer.from(p.ca.publicKey.rawData) : undefined;
    const problems: string[] = [];
    if ((await h.readFile(CA_KEY)) !== undefined) {
      problems.push(`${host}:${CA_KEY}: the CA private key is on a worker (anyone with root there can mint cluster-admin certificates); fix: delete it, it belongs on masters only`);
    }
    if (caPub) {
      // A CA key copied under another name is just as dangerous: look for any key matching the CA.
      for (const path of await h.listFiles(K8S_DIR)) {
        if (path === CA_KEY || !/\.(pem|key)$/.test(path)) continue;
        const text = await h.readFile(path);
        if (!text || !isPrivateKeyPem(text)) continue;
        try {
          if (publicKeyDerOf(text).equals(caPub)) {
            problems.push(`${host}:${path}: is the CA private key under another name; fix: delete it, it belongs on masters only`);
          }
        } catch {
          /* unreadable keys are reported by certs.key-match when they belong to a certificate */
        }
      }
    }
    return { problems };
  },
};

export const certsSuite: Suite = {
  name: 'certs',
  title: 'Certificates: chains, validity, keys, usages, identities and names',
  dependsOn: [],
  checks: [present, chain, validity, keyMatch, usage, identity, sans, kubeconfigCa, caKeyPlacement],
};
