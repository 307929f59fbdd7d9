// The lab's edge host plays "the internet" for the cluster: a DNS server for the lab's names
// (what CoreDNS forwards to, and what resolves the app's host names to the workers), and later the
// ACME CA. It runs CoreDNS's binary with a hosts file: a lab service, not part of the cluster.
import type { Cluster } from '../../model/cluster.ts';
import { Remote, shq } from '../../installer/remote.ts';
import { uploadIfChanged } from '../../installer/upload.ts';
import type { SshSession } from '../../ssh/session.ts';

export const LABDNS_UNIT = 'hardway-labdns';

/** Records of the lab's outside world: the upstream probe name and the app's names. */
export function labDnsRecords(c: Cluster, edgeAddress: string): [string, string[]][] {
  const workers = c.workers.map((w) => w.address);
  const records: [string, string[]][] = [];
  if (c.dns.probeName) records.push([c.dns.probeName, [edgeAddress]]);
  for (const h of [...(c.ingress?.hosts ?? []), ...(c.ingress?.plainHosts ?? [])]) records.push([h, workers]);
  return records;
}

export function labDnsCorefile(): string {
  return `.:53 {
    errors
    hosts /etc/hardway-labdns/hosts {
        ttl 5
        reload 2s
    }
}
`;
}

export async function setupEdge(
  c: Cluster,
  edge: SshSession,
  edgeAddress: string,
  corednsBinary: string,
  progress: (l: string) => void,
): Promise<void> {
  const r = new Remote('edge', edge);
  progress('edge: lab DNS (CoreDNS with a hosts file) for the outside names');
  await uploadIfChanged(r, corednsBinary, '/usr/local/bin/coredns', 0o755);
  const hosts = `${labDnsRecords(c, edgeAddress)
    .flatMap(([name, ips]) => ips.map((ip) => `${ip} ${name}`))
    .join('\n')}\n`;
  await edge.writeFile('/etc/hardway-labdns/hosts', hosts);
  await edge.writeFile('/etc/hardway-labdns/Corefile', labDnsCorefile());
  await edge.writeFile(
    `/etc/systemd/system/${LABDNS_UNIT}.service`,
    `[Unit]
Description=hardway lab DNS (the lab's outside world)
After=network.target

[Service]
ExecStart=/usr/local/bin/coredns -conf /etc/hardway-labdns/Corefile
Restart=on-failure

[Install]
WantedBy=multi-user.target
`,
  );
  await r.run(`systemctl daemon-reload && systemctl enable --now ${LABDNS_UNIT}`);
  const probe = c.dns.probeName ?? labDnsRecords(c, edgeAddress)[0]?.[0];
  if (probe)
    await r.waitFor(LABDNS_UNIT, `an answer for ${probe}`, `dig +short +time=1 +tries=1 @127.0.0.1 ${shq(probe)} | grep -q .`, 30_000);
}
