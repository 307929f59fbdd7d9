// hardway's KTHW certificate profiles written as an openssl config in ca.conf's shape: a [req]
// section for the CA and, per certificate, <name>, <name>_req_extensions and
// <name>_distinguished_name. With it, chapter 04's own openssl commands produce certificates from
// hardway's data (tests do, to check `render --pki` with real openssl output), and
// compare-with-kthw.ts holds this file against KTHW's ca.conf section by section.
import type { Cluster } from '../../model/cluster.ts';
import type { CertProfile } from '../../pki/plan.ts';
import { CA_PROFILE, kthwProfiles } from './profiles.ts';

const quote = (s: string) => (/[\s,"]/.test(s) ? `"${s}"` : s);

/** openssl extension lines for a profile (the CA's as x509_extensions, leaves' as req_extensions). */
export function extensionLines(p: CertProfile): string[] {
  const lines = [`basicConstraints = CA:${p.basicConstraints.ca ? 'TRUE' : 'FALSE'}`];
  if (p.extendedKeyUsage?.length)
    lines.push(`extendedKeyUsage = ${p.extendedKeyUsage.map((u) => (u === 'client' ? 'clientAuth' : 'serverAuth')).join(', ')}`);
  if (p.keyUsage) lines.push(`keyUsage = ${[...(p.keyUsage.critical ? ['critical'] : []), ...p.keyUsage.usages].join(', ')}`);
  if (p.nsCertType?.length) lines.push(`nsCertType = ${p.nsCertType.join(', ')}`);
  if (p.nsComment) lines.push(`nsComment = ${quote(p.nsComment)}`);
  if (p.altNames?.length)
    lines.push(`subjectAltName = ${p.altNames.map((a) => `${a.type === 'dns' ? 'DNS' : 'IP'}:${a.value}`).join(', ')}`);
  if (p.subjectKeyIdentifier && !p.basicConstraints.ca) lines.push('subjectKeyIdentifier = hash');
  return lines;
}

const dn = (p: CertProfile) => p.subject.map(([k, v]) => `${k} = ${v}`);

export function caConf(c: Cluster): string {
  const out = [
    '[req]',
    'distinguished_name = req_distinguished_name',
    'prompt = no',
    'x509_extensions = ca_x509_extensions',
    '',
    '[ca_x509_extensions]',
    ...extensionLines(CA_PROFILE),
    '',
    '[req_distinguished_name]',
    ...dn(CA_PROFILE),
    '',
  ];
  for (const { section, profile } of kthwProfiles(c)) {
    out.push(
      `[${section}]`,
      `distinguished_name = ${section}_distinguished_name`,
      'prompt = no',
      `req_extensions = ${section}_req_extensions`,
      '',
      `[${section}_req_extensions]`,
      ...extensionLines(profile),
      '',
      `[${section}_distinguished_name]`,
      ...dn(profile),
      '',
    );
  }
  return out.join('\n');
}

/** Chapter 04's commands (its certs=(...) list is the profiles' order): run in a folder holding ca.conf. */
export function chapter04Script(c: Cluster): string {
  const certs = kthwProfiles(c)
    .map((p) => `"${p.section}"`)
    .join(' ');
  return `set -e
openssl genrsa -out ca.key 4096
openssl req -x509 -new -sha512 -noenc -key ca.key -days 3653 -config ca.conf -out ca.crt
certs=(${certs})
for i in \${certs[*]}; do
  openssl genrsa -out "\${i}.key" 4096
  openssl req -new -key "\${i}.key" -sha256 -config "ca.conf" -section \${i} -out "\${i}.csr"
  openssl x509 -req -days 3653 -in "\${i}.csr" -copy_extensions copyall -sha256 -CA "ca.crt" -CAkey "ca.key" -CAcreateserial -out "\${i}.crt"
done
`;
}
