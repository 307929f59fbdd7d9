// The library's contract: what a caller describes (one credential as a component uses it) and
// what it gets back (findings that fail, warnings that do not). Finding has the shape of the
// check engine's Finding (harness/verify/check.ts), so findings pass through unchanged.
import type { Purpose } from './verify.ts';

export type { Purpose };

export interface Finding {
  /** Stable kebab-case code (see CODES in codes.ts). */
  code: string;
  host?: string;
  /** The file concerned ("/var/lib/kubernetes/kubernetes.pem", or a kubeconfig field). */
  subject: string;
  /** One line naming the rule (Go's, with Go's error text, or hardway's own). */
  message: string;
  fix: string;
}

/** A file as read on the host: pem undefined when it is absent. */
export interface FileRef {
  path: string;
  pem: string | undefined;
}

/** A trust file of the verifying peer, and the flag or field that names it. */
export interface TrustRef extends FileRef {
  /** "kube-apiserver --client-ca-file", "etcd --trusted-ca-file", "kubeconfig certificate-authority". */
  source: string;
}

/**
 * How fixes are worded. "hardway": the cluster was rendered by hardway, so re-rendering
 * (hardway render) is a fix. "manual": name the flag, file and openssl/cfssl step instead.
 * A function gets the finding's context and the default text and returns the fix to print.
 */
export type FixStyle = 'hardway' | 'manual';
export interface FixRequest {
  code: string;
  host?: string;
  component: string;
  source: string;
  subject: string;
  /** The trust files a re-issued certificate must chain to. */
  trustPaths: string[];
}
export type FixOption = FixStyle | ((req: FixRequest, defaultFix: string) => string);

export interface ExpectedIdentity {
  /** The user name RBAC binds (the CN). */
  cn?: string;
  /** Groups the certificate must carry (every one of them among its O values). */
  o?: string[];
  /** When RBAC binds the component by user name only, a different O is a warning, not a finding. */
  oAdvisory?: boolean;
}

export interface CredentialInput {
  host?: string;
  /** The component holding the credential ("kubelet", "kube-apiserver", "admin (kubectl)"). */
  component: string;
  /** serving: the component presents it to clients; client: it authenticates with it. */
  purpose: Purpose;
  /** Where the component is told to use it ("kube-apiserver --tls-cert-file"). */
  source: string;
  /** The certificate file; it may bundle intermediates after the leaf (tls.LoadX509KeyPair uses them). */
  cert: FileRef;
  key?: FileRef;
  /** The trust file(s) of the verifying peer; each may hold several CAs (rotation bundles). */
  trust: TrustRef[];
  /** Serving only: the names and addresses clients really connect to (Go's VerifyHostname). */
  names?: string[];
  /** Serving only: names hardway's model expects the certificate to carry; missing ones warn. */
  expectedNames?: string[];
  /** hardway's identity rule for client certificates. */
  expectedIdentity?: ExpectedIdentity;
  now?: Date;
  /** Warn when a certificate of the chain expires within this many days (default 30). */
  expiryWarningDays?: number;
  fix?: FixOption;
}

export interface ChainLink {
  /** File the certificate came from (the cert file for bundled ones, else the trust file). */
  path: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
}

export interface Judgement {
  findings: Finding[];
  warnings: Finding[];
  /** Certificates read (cert file and trust files). */
  examined: number;
  /** The chain Go would build (leaf first, trust anchor last), when there is one. */
  chain?: ChainLink[];
}
