// judgeCredential: one credential as a component uses it, judged as Go judges it. The verdict
// (findings) is Go's: tls.X509KeyPair for the pair, Certificate.Verify for the role with the
// peer's trust file and the file's bundle, VerifyHostname for every name clients use, and what
// a TLS 1.3 handshake needs from the leaf key. hardway's own rules (identity, the model's names)
// and the early warnings (expiry, a leaf outliving its CA, weak keys) come on top.
import {
  OID,
  type ParsedCert,
  type PrivateKeyRead,
  fingerprint,
  keyPairMismatch,
  parseCertificate,
  pemBlocks,
  readCertificates,
  readPrivateKeyAsGo,
} from './cert.ts';
import type { Code } from './codes.ts';
import type { ChainLink, CredentialInput, Finding, FixRequest, Judgement } from './types.ts';

/** How much longer than its CA a leaf may be valid before that is worth a warning. */
const OUTLIVES_SLACK_MS = 24 * 3600_000;
import { type GoError, Pool, USAGE, buildChains, chainKeyUsage, checkChainConstraints, isValid, verifyHostname } from './verify.ts';

const DAY = 86400_000;
const day = (d: Date) => d.toISOString().slice(0, 10);
const PRIVATE_KEY = 'PRIVATE' + ' KEY';
const EKU_NAME: Record<string, string> = { '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '2.5.29.37.0': 'any' };
const ekuName = (o: string) => EKU_NAME[o] ?? o;

/** The message and the default fixes (manual wording, and the one for hardway-rendered clusters). */
interface Text {
  message: string;
  fix: string;
  hardway?: string;
}

class Collector {
  readonly findings: Finding[] = [];
  readonly warnings: Finding[] = [];
  private input: CredentialInput;
  constructor(input: CredentialInput) {
    this.input = input;
  }
  private make(code: Code, subject: string, t: Text): Finding {
    const i = this.input;
    const style = i.fix ?? 'manual';
    const def = style === 'hardway' && t.hardway ? t.hardway : t.fix;
    const req: FixRequest = {
      code,
      component: i.component,
      source: i.source,
      subject,
      trustPaths: i.trust.map((x) => x.path),
      ...(i.host ? { host: i.host } : {}),
    };
    const fix = typeof style === 'function' ? style(req, t.fix) : def;
    return { code, ...(i.host ? { host: i.host } : {}), subject, message: t.message, fix };
  }
  finding(code: Code, subject: string, t: Text): void {
    if (!this.findings.some((f) => f.code === code && f.subject === subject)) this.findings.push(this.make(code, subject, t));
  }
  warning(code: Code, subject: string, t: Text): void {
    if (!this.warnings.some((f) => f.code === code && f.subject === subject && f.message === t.message))
      this.warnings.push(this.make(code, subject, t));
  }
}

const where = (c: ParsedCert) => (c.index > 0 ? `${c.origin} (certificate ${c.index + 1} of the bundle)` : c.origin);
const dn = (c: ParsedCert) => `"${c.subject.text}"`;

function trustText(input: CredentialInput): string {
  return input.trust.length ? input.trust.map((t) => t.path).join(', ') : '(no trust file)';
}

function reissue(input: CredentialInput, path: string, how: string): Text {
  const host = input.host ? ` and copy it to ${input.host}` : '';
  return {
    message: '',
    fix: `re-issue ${path}${how ? ` ${how}` : ''} from the CA in ${trustText(input)}`,
    hardway: `re-render the PKI (hardway render)${host}`,
  };
}

/** The finding for a Go chain error, on the file Go's error is about. */
function chainFinding(out: Collector, input: CredentialInput, leaf: ParsedCert, e: GoError): void {
  const c = e.cert;
  const isLeaf = c === leaf;
  const go = e.go;
  const redoCa = (what: string): Text => ({
    message: '',
    fix: `re-create the CA ${where(c)} with ${what}, then re-issue what it signed (${input.cert.path}) and replace it wherever it is trusted (${trustText(input)})`,
    hardway: `re-render the PKI (hardway render) and copy the new CA and certificates to every host`,
  });
  switch (e.code) {
    case 'chain-unknown-authority': {
      if (e.hint && e.candidate) {
        out.finding('chain-unknown-authority', where(c), {
          ...reissue(input, where(c), ''),
          message: `not signed by ${where(e.candidate)} although its issuer name matches ${dn(e.candidate)}: another CA with the same name issued it; Go checks the signature (${go})`,
        });
        return;
      }
      out.finding('chain-unknown-authority', where(c), {
        message: `its issuer "${c.issuer.text}" is neither in ${trustText(input)} nor bundled after the leaf in ${input.cert.path}: Go builds the chain from those only (${go})`,
        fix: `issue it from the CA in ${trustText(input)}, or add its issuing CA to the trust file${c === leaf ? ` and bundle any intermediate after the leaf in ${input.cert.path}` : ''}`,
        hardway: `re-render the PKI (hardway render) and copy ${input.cert.path} and the CA to ${input.host ?? 'the host'}`,
      });
      return;
    }
    case 'issuer-not-ca':
      out.finding('issuer-not-ca', where(c), {
        ...redoCa('basicConstraints = critical, CA:TRUE'),
        message: `the issuer ${dn(c)} is not a CA: Go refuses an issuer without basicConstraints CA:TRUE, trust anchors included (${go})`,
      });
      return;
    case 'issuer-no-certsign':
      out.finding('issuer-no-certsign', where(c), {
        ...redoCa('keyUsage = critical, keyCertSign, cRLSign'),
        message: `the issuer ${dn(c)} has a keyUsage without keyCertSign: Go refuses it as an issuer, trust anchors included (${go})`,
      });
      return;
    case 'path-len-exceeded':
      out.finding('path-len-exceeded', where(c), {
        ...redoCa(`a pathlen that allows the intermediates below it (now pathlen:${c.maxPathLen})`),
        message: `${dn(c)} allows ${c.maxPathLen} intermediate(s) below it but the chain to ${input.cert.path} has more: Go enforces pathLenConstraint (${go})`,
      });
      return;
    case 'signature-algorithm-insecure':
      out.finding('signature-algorithm-insecure', where(c), {
        ...reissue(input, where(c), 'with SHA-256 (openssl -sha256, cfssl default)'),
        message: `signed with ${c.signatureAlgorithm.name}: Go's crypto/x509 refuses MD5 and SHA-1 signatures in chains (${go})`,
      });
      return;
    case 'signature-algorithm-unsupported':
      out.finding('signature-algorithm-unsupported', where(c), {
        ...reissue(input, where(c), 'with SHA-256 and RSA or ECDSA'),
        message: `signed with ${c.signatureAlgorithm.name}, which Go cannot verify (${go})`,
      });
      return;
    case 'rsa-key-too-small':
      out.finding('rsa-key-too-small', where(c), {
        ...redoCa('an RSA 2048+ (or ECDSA P-256) key'),
        message: `the issuer ${dn(c)} has a ${c.rsaBits}-bit RSA key: Go refuses RSA keys under 1024 bits (GODEBUG rsa1024min=1, the default since go1.24) (${go})`,
      });
      return;
    case 'expired':
    case 'not-yet-valid':
      validityFinding(out, input, c, e, isLeaf);
      return;
    case 'critical-extension':
      out.finding('critical-extension', where(c), {
        ...reissue(input, where(c), 'without that extension marked critical'),
        message: `carries a critical extension Go does not handle (${c.unhandledCritical.join(', ')}) (${go})`,
      });
      return;
    case 'name-constraints':
      out.finding('name-constraints', where(c), {
        ...redoCa('name constraints that permit the names it signs'),
        message: `the CA's name constraints do not permit a name of ${input.cert.path} (${go})`,
      });
      return;
    case 'eku-missing':
    case 'eku-ca-restricts': {
      const need = ekuName(USAGE[input.purpose]);
      if (e.code === 'eku-missing') {
        out.finding('eku-missing', where(c), {
          ...reissue(input, where(c), `with extendedKeyUsage ${need}`),
          message: `its extendedKeyUsage (${c.extKeyUsage.map(ekuName).join(', ')}) lacks ${need}, which ${input.component} needs to use it as a ${input.purpose} certificate: Go checks the usage the peer asks for (${go})`,
        });
      } else {
        out.finding('eku-ca-restricts', where(c), {
          ...redoCa(`an extendedKeyUsage that includes ${need} (or none)`),
          message: `the CA ${dn(c)} limits what it signs to ${c.extKeyUsage.map(ekuName).join(', ')}, without ${need}: Go nests extended key usages through the chain (${go})`,
        });
      }
      return;
    }
    default:
      out.finding('chain-unknown-authority', where(c), { ...reissue(input, where(c), ''), message: go });
  }
}

function validityFinding(out: Collector, input: CredentialInput, c: ParsedCert, e: GoError, isLeaf: boolean): void {
  const caFix: Text = {
    message: '',
    fix: `re-create the CA ${where(c)} and re-issue every certificate it signed`,
    hardway: 'rotate the CA (hardway render --rotate-ca) and copy the new PKI to every host',
  };
  if (e.code === 'expired') {
    out.finding('expired', where(c), {
      ...(isLeaf ? reissue(input, where(c), '') : caFix),
      message: `${isLeaf ? '' : `the CA ${dn(c)} `}expired on ${c.notAfter.toISOString()}: Go refuses every certificate of the chain outside its validity window (${e.go})`,
    });
  } else {
    out.finding('not-yet-valid', where(c), {
      message: `${isLeaf ? '' : `the CA ${dn(c)} `}is not valid before ${c.notBefore.toISOString()} (${e.go})`,
      fix: `check the clock where it was issued and on ${input.host ?? 'the host'}; re-issue it with a notBefore in the past`,
    });
  }
}

function readKey(out: Collector, input: CredentialInput): PrivateKeyRead | undefined {
  const k = input.key;
  if (!k) return undefined;
  if (k.pem === undefined) {
    out.finding('missing', k.path, {
      message: `the private key ${input.source} pairs with ${input.cert.path} is absent`,
      fix: `put the key issued with ${input.cert.path} at ${k.path}`,
      hardway: `copy it from the rendered tree (hardway render) to ${input.host ?? 'the host'}`,
    });
    return undefined;
  }
  const r = readPrivateKeyAsGo(k.pem);
  if (r.error) {
    out.finding('unreadable', k.path, {
      message: `Go cannot read the private key (${r.error})`,
      fix: `write the unencrypted PEM key (PKCS#1, PKCS#8 or SEC1) issued with ${input.cert.path} to ${k.path}`,
      hardway: `copy it from the rendered tree (hardway render) to ${input.host ?? 'the host'}`,
    });
    return undefined;
  }
  return r;
}

interface CertFileRead {
  leaf?: ParsedCert;
  intermediates: ParsedCert[];
  count: number;
}

function readCertFile(out: Collector, input: CredentialInput): CertFileRead {
  const f = input.cert;
  const res: CertFileRead = { intermediates: [], count: 0 };
  const fixCopy = { hardway: `copy it from the rendered tree (hardway render) to ${input.host ?? 'the host'}` };
  if (f.pem === undefined) {
    out.finding('missing', f.path, {
      message: `absent, but ${input.source} names it`,
      fix: `put ${input.component}'s certificate at ${f.path} (or point ${input.source} at it)`,
      ...fixCopy,
    });
    return res;
  }
  const blocks = pemBlocks(f.pem);
  const certs = blocks.filter((b) => b.type === 'CERTIFICATE');
  if (!certs.length) {
    const why = !blocks.length
      ? 'tls: failed to find any PEM data in certificate input'
      : blocks.some((b) => b.type.endsWith(PRIVATE_KEY))
        ? 'tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched'
        : `tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${blocks.map((b) => b.type).join(' ')}]`;
    out.finding('unreadable', f.path, {
      message: `Go cannot read a certificate from it (${why})`,
      fix: `write ${input.component}'s PEM certificate (leaf first, then intermediates) to ${f.path}`,
      ...fixCopy,
    });
    return res;
  }
  certs.forEach((b, i) => {
    try {
      const c = parseCertificate(b.der, f.path, i);
      res.count++;
      if (i === 0) res.leaf = c;
      else res.intermediates.push(c);
    } catch (e) {
      out.finding('unreadable', i ? `${f.path} (certificate ${i + 1} of the bundle)` : f.path, {
        message: `Go cannot parse ${i ? 'a bundled certificate' : 'the certificate'} (${(e as Error).message})`,
        fix: `re-issue it with a tool that writes standard DER (openssl, cfssl) and put it in ${f.path}`,
        ...fixCopy,
      });
    }
  });
  return res;
}

function readTrust(out: Collector, input: CredentialInput): { roots: Pool; count: number; usable: boolean } {
  const roots = new Pool();
  let count = 0;
  let usable = false;
  for (const t of input.trust) {
    if (t.pem === undefined) {
      out.finding('missing', t.path, {
        message: `the trust file ${t.source} names is absent, so ${input.cert.path} cannot be verified`,
        fix: `put the cluster CA at ${t.path}`,
        hardway: `copy it from the rendered tree (hardway render) to ${input.host ?? 'the host'}`,
      });
      continue;
    }
    const r = readCertificates(t.pem, t.path, { pool: true });
    for (const c of r.certs) roots.add(c);
    count += r.certs.length;
    if (!r.certs.length) {
      out.finding('unreadable', t.path, {
        message: `no certificate Go can parse in the trust file ${t.source} names${r.errors[0] ? ` (${r.errors[0].error})` : ''}`,
        fix: `put the PEM CA certificate(s) at ${t.path}`,
        hardway: `copy the CA from the rendered tree (hardway render) to ${input.host ?? 'the host'}`,
      });
    } else {
      usable = true;
      for (const e of r.errors) {
        out.warning('trust-partly-unreadable', `${t.path} (certificate ${e.index + 1})`, {
          message: `Go skips this certificate of the trust file (${e.error}); components that parse every certificate of it (the apiserver's --client-ca-file) refuse the whole file`,
          fix: `remove or replace the unparsable certificate in ${t.path}`,
        });
      }
    }
  }
  return { roots, count, usable };
}

function tlsKeyCheck(out: Collector, input: CredentialInput, leaf: ParsedCert): void {
  const subject = input.key?.path ?? input.cert.path;
  const key = { hardway: `re-render the PKI (hardway render); hardway issues RSA 2048 keys` };
  if (leaf.publicKeyAlgorithm === 'RSA' && (leaf.rsaBits ?? 0) < 1024) {
    out.finding('rsa-key-too-small', subject, {
      message: `a ${leaf.rsaBits}-bit RSA key: Go's TLS cannot sign the handshake with it (RSA keys under 1024 bits are refused by crypto/rsa, GODEBUG rsa1024min=1 since go1.24; under 528 bits TLS 1.3 has no RSA-PSS scheme: "tls: certificate RSA key size too small for supported signature algorithms")`,
      fix: `generate an RSA 2048+ or ECDSA P-256 key (openssl genrsa 2048) and re-issue ${input.cert.path} for it from the CA in ${trustText(input)}`,
      ...key,
    });
  } else if (
    (leaf.publicKeyAlgorithm === 'ECDSA' && leaf.curve === 'P-224') ||
    leaf.publicKeyAlgorithm === 'DSA' ||
    leaf.publicKeyAlgorithm === 'unknown'
  ) {
    const what = leaf.publicKeyAlgorithm === 'ECDSA' ? 'ECDSA P-224' : leaf.publicKeyAlgorithm;
    out.finding('key-unsupported-tls', subject, {
      message: `an ${what} key: Go's TLS 1.3 signs handshakes only with RSA-PSS, ECDSA P-256/P-384/P-521 and Ed25519 keys, so the handshake fails`,
      fix: `generate an RSA 2048+ or ECDSA P-256 key and re-issue ${input.cert.path} for it`,
      ...key,
    });
  }
}

function identity(out: Collector, input: CredentialInput, leaf: ParsedCert): void {
  const want = input.expectedIdentity;
  if (!want || input.purpose !== 'client') return;
  const fix = reissue(input, input.cert.path, '');
  if (want.cn !== undefined && leaf.subject.cn !== want.cn) {
    out.finding('identity-cn', input.cert.path, {
      ...reissue(input, input.cert.path, `with CN=${want.cn}`),
      message: `CN is "${leaf.subject.cn}" but ${input.component} must authenticate as "${want.cn}" (hardway's rule: the apiserver takes the user name from the CN and RBAC binds that name)`,
    });
  }
  const lacking = (want.o ?? []).filter((g) => !leaf.subject.o.includes(g));
  if (lacking.length) {
    const t: Text = {
      ...reissue(input, input.cert.path, `with O=${(want.o ?? []).join(', O=')}`),
      message: `O is ${JSON.stringify(leaf.subject.o)} but ${input.component} belongs in group ${lacking.map((g) => `"${g}"`).join(', ')} (hardway's rule: the apiserver takes groups from O${want.oAdvisory ? '; RBAC binds this component by user name, so it still works' : ''})`,
    };
    if (want.oAdvisory) out.warning('identity-o', input.cert.path, t);
    else out.finding('identity-o', input.cert.path, t);
  }
  if (leaf.subject.o.includes('system:masters') && !(want.o ?? []).includes('system:masters')) {
    out.finding('identity-o', input.cert.path, {
      ...fix,
      message: `O includes "system:masters": whoever holds this ${input.component} credential is cluster-admin, bypassing RBAC (hardway's rule)`,
    });
  }
}

function warnings(out: Collector, input: CredentialInput, chain: ParsedCert[], now: Date): void {
  const days = input.expiryWarningDays ?? 30;
  const leaf = chain[0]!;
  for (const c of chain) {
    const left = c.notAfter.getTime() - now.getTime();
    if (left >= 0 && left < days * DAY) {
      out.warning('expires-soon', where(c), {
        message: `${c === leaf ? '' : `the CA ${dn(c)} `}expires in ${Math.ceil(left / DAY)} days (${c.notAfter.toISOString()})`,
        fix:
          c === leaf
            ? `plan its renewal: re-issue ${where(c)} from the CA in ${trustText(input)}`
            : `plan the CA's rotation before ${day(c.notAfter)}`,
      });
    }
    if (c.publicKeyAlgorithm === 'RSA' && (c.rsaBits ?? 0) >= 1024 && (c.rsaBits ?? 0) < 2048) {
      out.warning('rsa-key-weak', where(c), {
        message: `${c === leaf ? 'a' : `the CA ${dn(c)} has a`} ${c.rsaBits}-bit RSA key: Go accepts it (the floor is 1024) but 2048 is the least anyone should issue`,
        fix: `re-issue ${where(c)} with an RSA 2048+ or ECDSA P-256 key`,
      });
    }
  }
  // Go's policy graph runs over the chain below the trust anchor; only explicit-policy rules there can refuse it.
  const constrained = chain
    .slice(0, -1)
    .find((c) =>
      c.extensions.some((e) => e.oid === OID.policyConstraints || e.oid === OID.inhibitAnyPolicy || e.oid === OID.policyMappings),
    );
  if (constrained) {
    out.warning('policies-unchecked', where(constrained), {
      message: `${dn(constrained)} carries certificate policy constraints: Go evaluates them (RFC 9618 policy graph) and may refuse the chain; this check does not`,
      fix: 'drop policy constraints from a cluster CA, or verify the chain with Go',
    });
  }
  const cas = chain.slice(1);
  if (cas.length) {
    const first = cas.reduce((a, b) => (b.notAfter < a.notAfter ? b : a));
    // Leaves issued right after their CA with the same lifetime (KTHW's 3653 days for all) end
    // seconds after it: that is the CA's own expiry, not a leaf planned to outlive it.
    if (leaf.notAfter.getTime() - first.notAfter.getTime() > OUTLIVES_SLACK_MS) {
      out.warning('outlives-ca', input.cert.path, {
        message: `valid until ${leaf.notAfter.toISOString()} but the CA ${dn(first)} (${where(first)}) expires on ${first.notAfter.toISOString()}: the chain breaks on ${day(first.notAfter)}`,
        fix: `rotate the CA before ${day(first.notAfter)}, or issue leaves that end before their CA does`,
      });
    }
    const root = chain[chain.length - 1]!;
    const h = root.signatureAlgorithm.hash;
    if ((h === 'sha1' || h === 'md5') && root.rawIssuer.equals(root.rawSubject)) {
      out.warning('root-signature-weak', where(root), {
        message: `the trust anchor ${dn(root)} is self-signed with ${root.signatureAlgorithm.name}: Go never checks an anchor's own signature and accepts it, other TLS stacks may not`,
        fix: `re-create the CA with SHA-256 at its next rotation`,
      });
    }
  }
  const bit = input.purpose === 'serving' ? 0x40 : 0x80;
  if (leaf.nsCertType !== undefined && !(leaf.nsCertType & bit)) {
    const role = input.purpose === 'serving' ? 'server' : 'client';
    out.warning('ns-cert-type', input.cert.path, {
      message: `nsCertType does not include ${role}: Go ignores it, but OpenSSL-based clients (curl, openssl s_client) refuse the certificate as a ${role} (OpenSSL 3: "unsuitable certificate purpose")`,
      fix: `re-issue it without nsCertType (it is obsolete), or with nsCertType = ${role}${input.purpose === 'serving' ? ', client' : ''}`,
    });
  }
}

/** Judges one credential as the component's Go TLS stack would. */
export function judgeCredential(input: CredentialInput): Judgement {
  const out = new Collector(input);
  const now = input.now ?? new Date();
  const file = readCertFile(out, input);
  const key = readKey(out, input);
  const trust = readTrust(out, input);
  const examined = file.count + trust.count;
  const leaf = file.leaf;
  if (!leaf) return { findings: out.findings, warnings: out.warnings, examined };

  if (key?.key) {
    const mismatch = keyPairMismatch(leaf, key);
    if (mismatch) {
      out.finding('key-mismatch', input.key!.path, {
        message: `not the private key of ${input.cert.path} (Go's tls.X509KeyPair: ${mismatch})`,
        fix: `put the key issued with ${input.cert.path} at ${input.key!.path}, or re-issue the certificate for this key from the CA in ${trustText(input)}`,
        hardway: `copy the matching pair from the rendered tree (hardway render) to ${input.host ?? 'the host'}`,
      });
    }
  }

  const leafErr = isValid(leaf, 'leaf', [], now);
  if (leafErr) chainFinding(out, input, leaf, leafErr);

  if (input.purpose === 'serving') {
    const missing = (input.names ?? []).map((n) => ({ n, e: verifyHostname(leaf, n) })).filter((x) => x.e);
    if (missing.length) {
      const ips = missing.filter((m) => /^[\d.]+$|:/.test(m.n)).map((m) => `IP:${m.n}`);
      const dns = missing.filter((m) => !/^[\d.]+$|:/.test(m.n)).map((m) => `DNS:${m.n}`);
      out.finding('san-missing', input.cert.path, {
        ...reissue(input, input.cert.path, `with subjectAltName ${[...ips, ...dns].join(', ')}`),
        message: `${input.component} is reached as ${missing.map((m) => m.n).join(', ')} but the certificate does not name ${missing.length > 1 ? 'them' : 'it'}: Go matches addresses only against IP SANs and names only against DNS SANs (left-most wildcard), never the CN (${missing[0]!.e!.go})`,
      });
    }
  }

  let chain: ParsedCert[] | undefined;
  if (trust.usable) {
    const intermediates = new Pool();
    for (const c of file.intermediates) intermediates.add(c);
    let candidates: ParsedCert[][] = [];
    if (trust.roots.contains(leaf)) candidates = [[leaf]];
    else {
      const r = buildChains(leaf, [leaf], { roots: trust.roots, intermediates, now });
      if (r.err) chainFinding(out, input, leaf, r.err);
      else candidates = r.chains;
      // Whatever else failed, a signature Go refuses stays refused under any issuer.
      if (r.err && r.err.code !== 'signature-algorithm-insecure') {
        for (const c of [leaf, ...file.intermediates]) {
          if (c.signatureAlgorithm.hash === 'sha1' || c.signatureAlgorithm.hash === 'md5') {
            chainFinding(out, input, leaf, {
              code: 'signature-algorithm-insecure',
              go: `x509: cannot verify signature: insecure algorithm ${c.signatureAlgorithm.name}`,
              cert: c,
            });
          }
        }
      }
    }
    if (candidates.length) {
      let usageErr: GoError | undefined;
      let constraintErr: GoError | undefined;
      let unchecked = false;
      const ok = candidates.filter((ch) => {
        const bad = chainKeyUsage(ch, USAGE[input.purpose]);
        if (bad) {
          usageErr ??= {
            code: bad === leaf ? 'eku-missing' : 'eku-ca-restricts',
            go: 'x509: certificate specifies an incompatible key usage',
            cert: bad,
          };
          return false;
        }
        const cc = checkChainConstraints(ch);
        unchecked ||= cc.unchecked;
        if (cc.err) {
          constraintErr ??= cc.err;
          return false;
        }
        return true;
      });
      if (!ok.length) chainFinding(out, input, leaf, (constraintErr ?? usageErr)!);
      else chain = ok[0];
      if (unchecked) {
        out.warning('name-constraints-unchecked', input.cert.path, {
          message: 'a CA of the chain constrains email or URI names, which this check does not evaluate (Go does)',
          fix: "verify the chain with Go (openssl verify does not apply Go's rules either)",
        });
      }
    }
  }

  tlsKeyCheck(out, input, leaf);
  identity(out, input, leaf);
  warnings(out, input, chain ?? [leaf], now);
  if (input.purpose === 'serving') {
    const missing = (input.expectedNames ?? []).filter((n) => verifyHostname(leaf, n));
    if (missing.length) {
      out.warning('san-expected-missing', input.cert.path, {
        message: `lacks ${missing.join(', ')}, which hardway's model expects ${input.component} to be reached at (hardway's rule; clients using ${missing.length > 1 ? 'those names' : 'that name'} are refused)`,
        fix: `re-issue ${input.cert.path} with ${missing.join(', ')} in subjectAltName`,
      });
    }
  }
  const links: ChainLink[] | undefined = chain?.map((c) => ({
    path: where(c),
    subject: c.subject.text,
    issuer: c.issuer.text,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    sha256: fingerprint(c),
  }));
  return { findings: out.findings, warnings: out.warnings, examined, ...(links ? { chain: links } : {}) };
}
