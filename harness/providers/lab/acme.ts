// The lab's ACME CA: Let's Encrypt's test server Pebble (Debian package, in the node image) as a
// systemd service on the edge host. It resolves names through the lab DNS on the same host, so an
// HTTP-01 validation really travels to the workers' ingress on port 80, as Let's Encrypt's would.
// Nothing secret is committed or leaves the edge: Pebble's TLS key pair and the small CA that signs
// it are generated on the edge at setup (the CA key is deleted right away), and Pebble makes a new
// issuing root at every start, published on its management API (/roots/0).
import type { Cluster } from '../../model/cluster.ts';
import { Remote, shq } from '../../installer/remote.ts';
import type { SshSession } from '../../ssh/session.ts';
import { UserFacingError } from '../../cli/errors.ts';

export const PEBBLE_UNIT = 'hardway-pebble';
export const PEBBLE_DIR = '/etc/hardway-pebble';
/** The CA that signed Pebble's own TLS certificate: what an ACME client must trust (caBundle). */
export const PEBBLE_TLS_CA = `${PEBBLE_DIR}/tls-ca.pem`;
/** Pebble's management interface (roots, intermediates); by convention the ACME port + 1000. */
export const PEBBLE_MANAGEMENT_PORT = 15000;
/** Certificates valid 90 days, as Let's Encrypt's (Pebble's default is five years). */
export const PEBBLE_VALIDITY_SECONDS = 90 * 24 * 3600;

export interface AcmeEndpoint {
  /** https://<edge>:14000/dir */
  directory: string;
  host: string;
  port: number;
}

export function acmeEndpoint(c: Cluster): AcmeEndpoint | undefined {
  if (!c.ingress) return undefined;
  const u = new URL(c.ingress.acmeServer);
  return { directory: c.ingress.acmeServer, host: u.hostname, port: Number(u.port || 443) };
}

export function pebbleConfig(port: number): string {
  return `${JSON.stringify(
    {
      pebble: {
        listenAddress: `0.0.0.0:${port}`,
        managementListenAddress: `0.0.0.0:${PEBBLE_MANAGEMENT_PORT}`,
        certificate: `${PEBBLE_DIR}/tls.pem`,
        privateKey: `${PEBBLE_DIR}/tls-key.pem`,
        // Validations go where Let's Encrypt's go: port 80 (HTTP-01) and 443 (TLS-ALPN-01).
        httpPort: 80,
        tlsPort: 443,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: PEBBLE_VALIDITY_SECONDS,
      },
    },
    null,
    2,
  )}\n`;
}

/** Shell run on the edge: a throwaway CA (key deleted) signs Pebble's TLS certificate for its address. */
export function pebbleTlsScript(address: string): string {
  return `set -e
umask 077
cd ${PEBBLE_DIR}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj '/CN=hardway lab ACME TLS CA' \\
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \\
  -keyout ca-key.pem -out tls-ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=${address}' -keyout tls-key.pem -out tls.csr 2>/dev/null
printf 'subjectAltName=IP:${address}\\nbasicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=serverAuth\\n' > tls.ext
openssl x509 -req -in tls.csr -CA tls-ca.pem -CAkey ca-key.pem -CAcreateserial -days 365 -extfile tls.ext -out tls.pem 2>/dev/null
rm -f ca-key.pem tls.csr tls.ext tls-ca.srl
chmod 644 tls-ca.pem tls.pem
`;
}

export function pebbleUnit(dnsServer: string): string {
  return `[Unit]
Description=hardway lab ACME CA (Pebble, Let's Encrypt's test server)
After=network.target hardway-labdns.service
Wants=hardway-labdns.service

[Service]
# PEBBLE_VA_NOSLEEP: validate at once instead of a random 0-15 s wait. PEBBLE_WFE_NONCEREJECT=0:
# no deliberately rejected nonces (Let's Encrypt does not do that either).
Environment=PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
ExecStart=/usr/bin/pebble -config ${PEBBLE_DIR}/pebble-config.json -dnsserver ${dnsServer}
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;
}

/** Starts Pebble on the edge; returns the CA bundle an ACME client needs to trust Pebble's TLS. */
export async function setupPebble(c: Cluster, edge: SshSession, edgeAddress: string, progress: (l: string) => void): Promise<string> {
  const ep = acmeEndpoint(c);
  if (!ep) throw new UserFacingError('the cluster model has no ingress section: nothing needs an ACME CA');
  if (ep.host !== edgeAddress) {
    throw new UserFacingError(
      `ingress.acmeServer ${ep.directory} does not point at the lab's edge host ${edgeAddress}; fix: set acmeServer: https://${edgeAddress}:14000/dir in the lab's cluster.yaml`,
    );
  }
  const r = new Remote('edge', edge);
  progress(`edge: ACME CA (Pebble) on ${ep.directory}, validating through the lab DNS ${edgeAddress}:53`);
  await r.run(`test -x /usr/bin/pebble || { echo 'pebble is not installed (Debian package pebble, in the node image)' >&2; exit 1; }`);
  await r.run(`mkdir -p ${PEBBLE_DIR} && chmod 755 ${PEBBLE_DIR}`);
  await r.run('sh -s', { stdin: pebbleTlsScript(edgeAddress) });
  await edge.writeFile(`${PEBBLE_DIR}/pebble-config.json`, pebbleConfig(ep.port));
  await edge.writeFile(`/etc/systemd/system/${PEBBLE_UNIT}.service`, pebbleUnit(`${edgeAddress}:53`));
  await r.run(`systemctl daemon-reload && systemctl enable ${PEBBLE_UNIT} >/dev/null 2>&1 && systemctl restart ${PEBBLE_UNIT}`);
  await r.waitFor(
    PEBBLE_UNIT,
    `${ep.directory} and /roots/0`,
    `curl -sf --cacert ${PEBBLE_TLS_CA} ${shq(ep.directory)} >/dev/null && curl -sf --cacert ${PEBBLE_TLS_CA} https://${edgeAddress}:${PEBBLE_MANAGEMENT_PORT}/roots/0 | grep -q 'BEGIN CERTIFICATE'`,
    30_000,
  );
  return r.run(`cat ${PEBBLE_TLS_CA}`);
}
