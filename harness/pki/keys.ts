// Key handling shared by the PKI generator and the certs suite: generate RSA keys, read private
// keys in every PEM form the usual tools write (PKCS#1 from cfssl/openssl, PKCS#8, SEC1 EC), and
// compare a private key with a certificate's public key.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';

const subtle = globalThis.crypto.subtle;
x509.cryptoProvider.set(globalThis.crypto);

const generateKeyPairAsync = promisify(generateKeyPair);

export const RSA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export interface KeyMaterial {
  /** PEM as written to disk. */
  pem: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function toWebCrypto(priv: KeyObject): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  const pkcs8 = priv.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  if (priv.asymmetricKeyType === 'rsa') {
    const alg = { name: RSA_SIGNING.name, hash: RSA_SIGNING.hash };
    return {
      privateKey: await subtle.importKey('pkcs8', pkcs8, alg, true, ['sign']),
      publicKey: await subtle.importKey('spki', spki, alg, true, ['verify']),
    };
  }
  if (priv.asymmetricKeyType === 'ec') {
    const namedCurve = ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[
      priv.asymmetricKeyDetails?.namedCurve ?? ''
    ];
    if (!namedCurve) throw new Error(`unsupported EC curve ${priv.asymmetricKeyDetails?.namedCurve}`);
    const alg = { name: 'ECDSA', namedCurve };
    return {
      privateKey: await subtle.importKey('pkcs8', pkcs8, alg, true, ['sign']),
      publicKey: await subtle.importKey('spki', spki, alg, true, ['verify']),
    };
  }
  throw new Error(`unsupported key type ${priv.asymmetricKeyType}`);
}

/** A new RSA 2048 key, written as PKCS#1 ("RSA PRIVATE KEY") like cfssl does. */
export async function generateRsaKey(): Promise<KeyMaterial> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
  return { pem, ...(await toWebCrypto(privateKey)) };
}

/** Reads a PEM private key of any common form; throws with a short reason when it is not one. */
export async function readPrivateKey(pem: string): Promise<KeyMaterial> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new Error(`not a readable PEM private key (${(e as Error).message.split('\n')[0]})`);
  }
  return { pem, ...(await toWebCrypto(key)) };
}

/** The SubjectPublicKeyInfo of a private key, for comparison with a certificate's. */
export function publicKeyDerOf(privatePem: string): Buffer {
  return createPublicKey(createPrivateKey({ key: privatePem, format: 'pem' })).export({ format: 'der', type: 'spki' });
}

export function publicKeyPemOf(privatePem: string): string {
  return createPublicKey(createPrivateKey({ key: privatePem, format: 'pem' }))
    .export({ format: 'pem', type: 'spki' })
    .toString();
}

/** Parses every certificate in a PEM bundle. */
export function parseCertificates(pem: string): x509.X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new x509.X509Certificate(b));
}

export function isPrivateKeyPem(text: string): boolean {
  return /-----BEGIN (RSA |EC |ENCRYPTED |OPENSSH )?PRIVATE KEY-----/.test(text);
}

export { x509 };
