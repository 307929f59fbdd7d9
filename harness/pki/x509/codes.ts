// Every finding code the library emits, with whose rule it is. "go": Go's crypto/x509,
// crypto/tls or client-go refuses it (the differential test proves these against Go);
// "hardway": hardway's own rule (identities, the model's names, placement, operator hygiene).
// Warnings never fail a check.

export interface CodeInfo {
  rule: 'go' | 'hardway';
  severity: 'finding' | 'warning';
  what: string;
}

export const CODES = {
  missing: { rule: 'go', severity: 'finding', what: 'a file the component reads is absent' },
  unreadable: {
    rule: 'go',
    severity: 'finding',
    what: 'Go cannot parse the file (no PEM, a malformed or refused certificate or key, a trust file without one certificate Go can parse)',
  },
  'key-mismatch': { rule: 'go', severity: 'finding', what: "the private key is not the certificate's (tls.X509KeyPair)" },
  'critical-extension': {
    rule: 'go',
    severity: 'finding',
    what: 'a critical extension Go does not handle (x509: unhandled critical extension)',
  },
  expired: { rule: 'go', severity: 'finding', what: 'a certificate of the chain is past notAfter' },
  'not-yet-valid': { rule: 'go', severity: 'finding', what: 'a certificate of the chain is before notBefore' },
  'san-missing': {
    rule: 'go',
    severity: 'finding',
    what: 'a name clients use is not in the SANs (VerifyHostname: IP SANs for addresses, DNS SANs with a left-most wildcard for names, no CN fallback)',
  },
  'chain-unknown-authority': {
    rule: 'go',
    severity: 'finding',
    what: "no issuer in the bundle or the trust file, or one with the issuer's name whose key did not sign it",
  },
  'issuer-not-ca': { rule: 'go', severity: 'finding', what: 'the issuer lacks basicConstraints CA:TRUE (roots included)' },
  'issuer-no-certsign': { rule: 'go', severity: 'finding', what: "the issuer's keyUsage lacks keyCertSign (roots included)" },
  'path-len-exceeded': { rule: 'go', severity: 'finding', what: 'more intermediates below a CA than its pathLenConstraint allows' },
  'signature-algorithm-insecure': { rule: 'go', severity: 'finding', what: 'signed with MD5 or SHA-1' },
  'signature-algorithm-unsupported': {
    rule: 'go',
    severity: 'finding',
    what: 'a signature algorithm Go does not implement (MD2, DSA, odd RSA-PSS parameters) or a key of the wrong type',
  },
  'rsa-key-too-small': { rule: 'go', severity: 'finding', what: 'an RSA key under 1024 bits (GODEBUG rsa1024min=1)' },
  'key-unsupported-tls': { rule: 'go', severity: 'finding', what: 'a leaf key TLS 1.3 cannot sign with (ECDSA P-224, DSA)' },
  'eku-missing': { rule: 'go', severity: 'finding', what: "the leaf's extendedKeyUsage lacks serverAuth/clientAuth for its role" },
  'eku-ca-restricts': {
    rule: 'go',
    severity: 'finding',
    what: "a CA's extendedKeyUsage list excludes the role (usages nest through the chain)",
  },
  'name-constraints': { rule: 'go', severity: 'finding', what: "a CA's name constraints do not permit a SAN (DNS and IP)" },
  'kubeconfig-unreadable': {
    rule: 'go',
    severity: 'finding',
    what: 'client-go cannot load the kubeconfig (YAML, base64, duplicate names)',
  },
  'kubeconfig-no-context': {
    rule: 'go',
    severity: 'finding',
    what: 'current-context is empty: kubectl talks to http://localhost:8080, components refuse the file',
  },
  'kubeconfig-context-missing': { rule: 'go', severity: 'finding', what: 'current-context names no context' },
  'kubeconfig-cluster-missing': { rule: 'go', severity: 'finding', what: 'the context names a cluster the file does not define' },
  'kubeconfig-user-missing': { rule: 'go', severity: 'finding', what: 'the context names a user the file does not define (or none)' },
  'kubeconfig-no-server': { rule: 'go', severity: 'finding', what: 'the cluster has no server, or not an https:// one' },
  'kubeconfig-conflict': {
    rule: 'go',
    severity: 'finding',
    what: 'a field given both as data and as a file, or a CA with insecure-skip-tls-verify',
  },
  'kubeconfig-client-key-missing': {
    rule: 'go',
    severity: 'finding',
    what: 'a client certificate without a key (client-go refuses the user)',
  },
  'kubeconfig-no-credential': {
    rule: 'hardway',
    severity: 'finding',
    what: 'a user no component could authenticate with (a key without a certificate, nothing at all)',
  },
  'sa-key-mismatch': { rule: 'go', severity: 'finding', what: 'the service-account signing key matches none of the verification keys' },
  'identity-cn': { rule: 'hardway', severity: 'finding', what: 'the CN is not the user name RBAC binds for the component' },
  'identity-o': {
    rule: 'hardway',
    severity: 'finding',
    what: 'the O values lack a group the component needs, or add system:masters (a warning when RBAC binds the user only)',
  },
  'masters-credential-on-worker': {
    rule: 'hardway',
    severity: 'finding',
    what: 'a system:masters client certificate with its key on a worker',
  },
  'expires-soon': { rule: 'hardway', severity: 'warning', what: 'a certificate of the chain expires within the warning window' },
  'outlives-ca': {
    rule: 'hardway',
    severity: 'warning',
    what: "the leaf outlives a CA of its chain: the chain breaks on the CA's notAfter",
  },
  'rsa-key-weak': { rule: 'hardway', severity: 'warning', what: 'an RSA key under 2048 bits (Go accepts 1024)' },
  'root-signature-weak': {
    rule: 'hardway',
    severity: 'warning',
    what: 'a trust anchor self-signed with SHA-1/MD5 (Go does not check it; other stacks may)',
  },
  'ns-cert-type': {
    rule: 'hardway',
    severity: 'warning',
    what: 'nsCertType excludes the role: Go ignores it, OpenSSL-based clients (curl) refuse it',
  },
  'san-expected-missing': { rule: 'hardway', severity: 'warning', what: 'a name the model expects is not in the SANs' },
  'trust-partly-unreadable': {
    rule: 'hardway',
    severity: 'warning',
    what: 'a trust file holds a certificate Go cannot parse (skipped by x509.CertPool)',
  },
  'policies-unchecked': {
    rule: 'hardway',
    severity: 'warning',
    what: 'a certificate of the chain carries policy constraints, below the trust anchor, which Go evaluates and this check does not',
  },
  'name-constraints-unchecked': { rule: 'hardway', severity: 'warning', what: 'email/URI name constraints apply and are not checked here' },
  'kubeconfig-insecure': { rule: 'hardway', severity: 'warning', what: 'insecure-skip-tls-verify: the apiserver is not authenticated' },
  'kubeconfig-no-ca': {
    rule: 'hardway',
    severity: 'warning',
    what: 'no certificate-authority: the apiserver is checked against the system roots',
  },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
