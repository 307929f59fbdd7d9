// Service-account keys as the apiserver reads them (client-go util/keyutil): each
// --service-account-key-file may hold PKIX public keys, certificates and even private keys, RSA
// or ECDSA, in any PEM block (the type is not looked at); the signing key
// (--service-account-signing-key-file, kube-controller-manager's
// --service-account-private-key-file) must match one of them or the tokens it signs fail.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { parseCertificate, pemBlocks, privateKeyForm } from './cert.ts';
import type { Code } from './codes.ts';
import type { FileRef, Finding, FixOption } from './types.ts';

const GO_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1', 'secp224r1']);
const goKey = (k: KeyObject) =>
  k.asymmetricKeyType === 'rsa' || (k.asymmetricKeyType === 'ec' && GO_CURVES.has(k.asymmetricKeyDetails?.namedCurve ?? ''));

/** keyutil.ParsePublicKeysPEM: RSA private (PKCS#1/PKCS#8), PKIX or certificate RSA, EC private (SEC1), PKIX or certificate EC. */
export function parsePublicKeysAsKubernetes(text: string): KeyObject[] {
  const keys: KeyObject[] = [];
  for (const b of pemBlocks(text)) {
    const form = privateKeyForm(b.der);
    const priv = (type: 'pkcs1' | 'pkcs8' | 'sec1') => {
      if (form !== type) throw new Error(`not ${type}`);
      return createPrivateKey({ key: b.der, format: 'der', type });
    };
    const attempts: (() => KeyObject)[] = [
      () => createPublicKey(priv('pkcs1')),
      () => {
        const k = priv('pkcs8');
        if (k.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
        return createPublicKey(k);
      },
      () => {
        if (form) throw new Error('a private key');
        return createPublicKey({ key: b.der, format: 'der', type: 'spki' });
      },
      () => {
        const c = parseCertificate(b.der);
        if (!c.publicKey) throw new Error('no key');
        return c.publicKey;
      },
      () => createPublicKey(priv('sec1')),
    ];
    for (const a of attempts) {
      try {
        const k = a();
        if (goKey(k)) {
          keys.push(k);
          break;
        }
      } catch {
        /* the next parser, as keyutil tries them */
      }
    }
  }
  return keys;
}

/** keyutil.ParsePrivateKeyPEM, then what the token signer accepts (RSA or ECDSA). */
export function parseSigningKeyAsKubernetes(text: string): { key?: KeyObject; error?: string } {
  const forms: Record<string, 'sec1' | 'pkcs1' | 'pkcs8'> = {
    ['EC PRIVATE' + ' KEY']: 'sec1',
    ['RSA PRIVATE' + ' KEY']: 'pkcs1',
    ['PRIVATE' + ' KEY']: 'pkcs8',
  };
  for (const b of pemBlocks(text)) {
    const type = forms[b.type];
    if (!type || privateKeyForm(b.der) !== type) continue;
    let k: KeyObject;
    try {
      k = createPrivateKey({ key: b.der, format: 'der', type });
    } catch {
      continue;
    }
    if (!goKey(k)) return { error: `unknown private key type ${k.asymmetricKeyType}, must be *rsa.PrivateKey or *ecdsa.PrivateKey` };
    return { key: k };
  }
  return { error: 'data does not contain a valid RSA or ECDSA private key' };
}

export interface ServiceAccountKeysInput {
  host?: string;
  /** The apiserver's --service-account-key-file values (repeatable). */
  verifyFiles: FileRef[];
  /** --service-account-signing-key-file, or kube-controller-manager's --service-account-private-key-file. */
  signingKey: FileRef;
  verifySource?: string;
  signingSource?: string;
  fix?: FixOption;
}

export function judgeServiceAccountKeys(input: ServiceAccountKeysInput): { findings: Finding[]; warnings: Finding[]; examined: number } {
  const findings: Finding[] = [];
  const warnings: Finding[] = [];
  const vSrc = input.verifySource ?? 'kube-apiserver --service-account-key-file';
  const sSrc = input.signingSource ?? 'kube-apiserver --service-account-signing-key-file';
  const push = (list: Finding[], code: Code, subject: string, message: string, fix: string, hardway?: string) => {
    const style = input.fix ?? 'manual';
    const def = style === 'hardway' && hardway ? hardway : fix;
    const f =
      typeof style === 'function'
        ? style(
            { code, component: 'kube-apiserver', source: vSrc, subject, trustPaths: [], ...(input.host ? { host: input.host } : {}) },
            fix,
          )
        : def;
    list.push({ code, ...(input.host ? { host: input.host } : {}), subject, message, fix: f });
  };
  const copy = `copy the service-account key pair from the rendered tree (hardway render) to ${input.host ?? 'the master'}`;
  let examined = 0;
  const keys: { key: KeyObject; path: string }[] = [];
  for (const f of input.verifyFiles) {
    if (f.pem === undefined) {
      push(
        findings,
        'missing',
        f.path,
        `absent, but ${vSrc} names it: the apiserver does not start`,
        `put the service-account public key (or its certificate) at ${f.path}`,
        copy,
      );
      continue;
    }
    const ks = parsePublicKeysAsKubernetes(f.pem);
    examined += ks.length;
    if (!ks.length) {
      push(
        findings,
        'unreadable',
        f.path,
        `the apiserver cannot read a key from it (error reading public key file ${f.path}: data does not contain any valid RSA or ECDSA public keys)`,
        `write the PEM public key ("PUBLIC KEY", PKIX) or certificate of the signing key to ${f.path}`,
        copy,
      );
    }
    for (const key of ks) keys.push({ key, path: f.path });
  }
  const s = input.signingKey;
  if (s.pem === undefined) {
    push(findings, 'missing', s.path, `absent, but ${sSrc} names it`, `put the service-account private key at ${s.path}`, copy);
    return { findings, warnings, examined };
  }
  const sk = parseSigningKeyAsKubernetes(s.pem);
  if (!sk.key) {
    push(
      findings,
      'unreadable',
      s.path,
      `the token signer cannot use it (${sk.error})`,
      `write an unencrypted RSA or ECDSA private key in PEM to ${s.path}`,
      copy,
    );
    return { findings, warnings, examined };
  }
  examined++;
  const bits = sk.key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (sk.key.asymmetricKeyType === 'rsa' && bits < 1024) {
    push(
      findings,
      'rsa-key-too-small',
      s.path,
      `a ${bits}-bit RSA key: Go refuses to sign with RSA keys under 1024 bits (crypto/rsa: ${bits}-bit keys are insecure), so no token is issued`,
      `generate an RSA 2048+ key (openssl genrsa 2048) and publish its public key in ${vSrc}`,
      copy,
    );
  } else if (sk.key.asymmetricKeyType === 'rsa' && bits < 2048) {
    push(
      warnings,
      'rsa-key-weak',
      s.path,
      `a ${bits}-bit RSA key: Go accepts it, but 2048 is the least anyone should use`,
      'rotate to an RSA 2048+ key (keep the old public key in the verification files until its tokens expire)',
    );
  }
  const pub = createPublicKey(sk.key);
  // With a verification file unreadable the apiserver does not start: that finding says it all.
  if (!keys.some((k) => k.key.equals(pub)) && !findings.length) {
    push(
      findings,
      'sa-key-mismatch',
      s.path,
      `its public key is in none of ${input.verifyFiles.map((f) => f.path).join(', ')} (${vSrc}): every token it signs is rejected`,
      `add its public key (openssl pkey -in ${s.path} -pubout) to ${input.verifyFiles[0]?.path ?? 'a --service-account-key-file'}`,
      copy,
    );
  }
  return { findings, warnings, examined };
}
