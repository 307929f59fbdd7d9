// The fault catalogue: what an operator of a seed-style cluster breaks in practice, each with the
// checks that must then fail and the words their diagnosis must contain. Every fault is injected
// into the lab over SSH (as an operator would break a VPS) and repaired the same way.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { waitHealthy } from '../installer/install.ts';
import { CA_KEY, TOKEN_FILE, certPlan, kubeletCert } from '../pki/plan.ts';
import { PKI_DIR } from '../render/render.ts';
import { readPrivateKey } from '../pki/keys.ts';
import { tokenCsv } from '../render/configs.ts';
import { APP, APP_NS, APP_TLS_SECRET, CERT_MANAGER_NS, CLUSTER_ISSUER, GATEWAY_DAEMONSET, GATEWAY_NS } from '../edge/manifests.ts';
import { issueCa, issueLeaf } from '../pki/issue.ts';
import type { Fault, FaultEnv } from './fault.ts';

const UNIT = (name: string) => `/etc/systemd/system/${name}.service`;

async function stop(env: FaultEnv, host: string, unit: string): Promise<void> {
  await env.host(host).run(`systemctl stop ${unit}`);
}

async function start(env: FaultEnv, host: string, unit: string): Promise<void> {
  await env.host(host).run(`systemctl start ${unit}`);
  await waitHealthy(env.cluster, env.host(host), unit);
}

async function restart(env: FaultEnv, host: string, unit: string): Promise<void> {
  await env.host(host).run(`systemctl daemon-reload && systemctl restart ${unit}`);
  await waitHealthy(env.cluster, env.host(host), unit);
}

/** Puts a file back from the rendered tree (the installer's source of truth). */
async function restoreFile(env: FaultEnv, host: string, path: string, mode = 0o644): Promise<void> {
  await env.host(host).ssh.writeFile(path, await readFile(join(env.renderedDir, host, path)), mode);
}

/** kubectl on the master, as the seed's operator runs it. */
const kubectl = (env: FaultEnv, args: string, stdin?: string) => env.host(env.cluster.masters[0]!.host).run(`kubectl ${args}`, { timeoutMs: 300_000, ...(stdin !== undefined ? { stdin } : {}) });

/** Waits until every worker's node is Ready again (after kubelet faults). */
async function nodesReady(env: FaultEnv): Promise<void> {
  const names = env.cluster.workers.map((w) => w.nodeName);
  await env.host(env.cluster.masters[0]!.host).waitFor('kubelet', `nodes ${names.join(', ')} Ready`,
    names.map((n) => `kubectl get node ${n} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True`).join(' && '), 120_000);
}

export function catalogue(): Fault[] {
  const M = 'master';
  return [
    {
      id: 'scheduler-stopped',
      title: 'kube-scheduler stopped (the seed: it "stopped by itself")',
      expected: [`hosts.services-active@${M}`, `hosts.listening@${M}`, `scheduler.job@${M}`, `scheduler.spread@${M}`, `scheduler.leader@${M}`],
      mentions: { [`hosts.services-active@${M}`]: ['kube-scheduler is inactive'], [`scheduler.job@${M}`]: ['no Scheduled event', 'kube-scheduler'], [`scheduler.leader@${M}`]: ['kube-scheduler'] },
      settleSeconds: 22,
      inject: (env) => stop(env, M, 'kube-scheduler'),
      repair: (env) => start(env, M, 'kube-scheduler'),
    },
    {
      id: 'controller-manager-stopped',
      title: 'kube-controller-manager stopped',
      expected: [`hosts.services-active@${M}`, `hosts.listening@${M}`, `controller-manager.service-accounts@${M}`, `controller-manager.leader@${M}`],
      mentions: { [`controller-manager.service-accounts@${M}`]: ['no default ServiceAccount', 'kube-controller-manager'], [`controller-manager.leader@${M}`]: ['kube-controller-manager'] },
      settleSeconds: 22,
      inject: (env) => stop(env, M, 'kube-controller-manager'),
      repair: (env) => start(env, M, 'kube-controller-manager'),
    },
    {
      id: 'flanneld-stopped',
      title: 'flanneld stopped on node-2',
      expected: ['hosts.services-active@node-2', 'flannel.daemon@node-2'],
      mentions: { 'flannel.daemon@node-2': ['flanneld is not running'], 'hosts.services-active@node-2': ['flanneld is inactive'] },
      inject: (env) => stop(env, 'node-2', 'flanneld'),
      repair: (env) => start(env, 'node-2', 'flanneld'),
    },
    {
      id: 'vxlan-udp-dropped',
      title: 'UDP 8472 (flannel vxlan) dropped on node-2',
      expected: ['flannel.pod-ping@node-1', 'flannel.pod-ping@node-2'],
      mentions: { 'flannel.pod-ping@node-1': ['UDP 8472', 'iptables'], 'flannel.pod-ping@node-2': ['UDP 8472'] },
      inject: (env) => env.host('node-2').run('iptables -w 5 -I INPUT -p udp --dport 8472 -j DROP -m comment --comment hardway-fault').then(() => undefined),
      repair: (env) => env.host('node-2').run('iptables -w 5 -D INPUT -p udp --dport 8472 -j DROP -m comment --comment hardway-fault').then(() => undefined),
    },
    {
      id: 'coredns-stopped',
      title: 'CoreDNS stopped on node-2',
      expected: ['hosts.services-active@node-2', 'hosts.listening@node-2', 'coredns.cluster-names@node-2', 'coredns.upstream@node-2'],
      mentions: { 'coredns.cluster-names@node-2': ['does not answer', 'coredns'], 'coredns.upstream@node-2': ['does not answer'] },
      inject: (env) => stop(env, 'node-2', 'coredns'),
      repair: (env) => start(env, 'node-2', 'coredns'),
    },
    {
      id: 'corefile-wrong-upstream',
      title: 'a wrong upstream in the Corefile of node-1 (forward to a host without DNS)',
      expected: ['coredns.upstream@node-1'],
      mentions: { 'coredns.upstream@node-1': ['forward', 'Corefile'] },
      async inject(env) {
        await env.host('node-1').run(`sed -i 's|^\\(\\s*forward \\. \\).*|\\1${env.cluster.masters[0]!.address}|' /etc/coredns/Corefile`);
        await restart(env, 'node-1', 'coredns');
      },
      async repair(env) {
        await restoreFile(env, 'node-1', '/etc/coredns/Corefile');
        await restart(env, 'node-1', 'coredns');
      },
    },
    {
      id: 'kube-proxy-stopped-rules-flushed',
      title: 'kube-proxy stopped on node-1 and its nat rules flushed',
      expected: ['hosts.services-active@node-1', 'hosts.listening@node-1', 'kube-proxy.nat-rules@node-1', 'kube-proxy.clusterip-spread@node-1'],
      mentions: { 'kube-proxy.nat-rules@node-1': ['kube-proxy on node-1'], 'kube-proxy.clusterip-spread@node-1': ['kube-proxy is at fault'] },
      async inject(env) {
        await stop(env, 'node-1', 'kube-proxy');
        await env.host('node-1').run('iptables -w 5 -t nat -F KUBE-SERVICES');
      },
      repair: (env) => start(env, 'node-1', 'kube-proxy'),
    },
    {
      id: 'backend-pod-unreachable',
      title: 'one backend pod broken: the demo app on node-2 stops answering other nodes',
      expected: ['kube-proxy.clusterip-spread@node-1'],
      mentions: { 'kube-proxy.clusterip-spread@node-1': ['not kube-proxy', 'backend-node-2'] },
      inject: (env) => env.host('node-2').run('iptables -w 5 -I FORWARD -o cni0 -p tcp --dport 8000 -j REJECT -m comment --comment hardway-fault').then(() => undefined),
      repair: (env) => env.host('node-2').run('iptables -w 5 -D FORWARD -o cni0 -p tcp --dport 8000 -j REJECT -m comment --comment hardway-fault').then(() => undefined),
    },
    {
      id: 'kubelet-node-name-mismatch',
      title: 'kubelet of node-2 registering under a name its certificate does not carry',
      // scheduler.job still completes: once its pod on node-1 finishes, the anti-affinity lets the
      // second pod run there too. The scheduler works; the spread over both workers does not.
      expected: ['kubelet.ready@node-2', 'kubelet.pods-run@node-2', `scheduler.spread@${M}`],
      mentions: { 'kubelet.ready@node-2': ['hostname-override', 'node-2'], [`scheduler.spread@${M}`]: ['node-2'] },
      // The node must go NotReady (grace period) and its lease stale before the suites look.
      settleSeconds: 60,
      async inject(env) {
        await env.host('node-2').run(`sed -i 's/--hostname-override=node-2\\b/--hostname-override=node-2-renamed/' ${UNIT('kubelet')} && grep -q node-2-renamed ${UNIT('kubelet')}`);
        await env.host('node-2').run('systemctl daemon-reload && systemctl restart kubelet');
      },
      async repair(env) {
        await restoreFile(env, 'node-2', UNIT('kubelet'));
        await restart(env, 'node-2', 'kubelet');
        await nodesReady(env);
      },
    },
    {
      id: 'apiserver-static-token-changed',
      title: 'the apiserver\'s static token changed behind the operator\'s back',
      expected: [`apiserver.bearer-token@${M}`],
      mentions: { [`apiserver.bearer-token@${M}`]: ['401', TOKEN_FILE] },
      async inject(env) {
        await env.host(M).ssh.writeFile(TOKEN_FILE, tokenCsv('changed-by-hardway-fault-0123456789'), 0o600);
        await restart(env, M, 'kube-apiserver');
      },
      async repair(env) {
        await restoreFile(env, M, TOKEN_FILE, 0o600);
        await restart(env, M, 'kube-apiserver');
      },
    },
    {
      id: 'etcd-down',
      title: 'the etcd member down',
      // Everything that needs the apiserver is skipped: its prerequisite, etcd, failed.
      expected: [`hosts.services-active@${M}`, `hosts.listening@${M}`, `etcd.health@${M}`, `etcd.members@${M}`, `etcd.flannel-config@${M}`, `etcd.subnet-leases@${M}`],
      mentions: { [`etcd.health@${M}`]: ['not healthy', 'journalctl -u etcd'], [`hosts.services-active@${M}`]: ['etcd is inactive'] },
      inject: (env) => stop(env, M, 'etcd'),
      async repair(env) {
        await start(env, M, 'etcd');
        await waitHealthy(env.cluster, env.host(M), 'kube-apiserver', 120_000);
      },
    },
    {
      id: 'unit-without-restart',
      title: 'kube-scheduler\'s unit without Restart= (the seed\'s lesson)',
      expected: [`hosts.restart-policy@${M}`],
      mentions: { [`hosts.restart-policy@${M}`]: ['kube-scheduler has Restart=no'] },
      async inject(env) {
        await env.host(M).run(`sed -i '/^Restart=/d' ${UNIT('kube-scheduler')} && systemctl daemon-reload`);
      },
      async repair(env) {
        await restoreFile(env, M, UNIT('kube-scheduler'));
        await env.host(M).run('systemctl daemon-reload');
      },
    },
    {
      id: 'memory-over-budget',
      title: 'kube-apiserver over its memory budget',
      expected: [],
      expectedWarnings: [`resources.memory@${M}`],
      mentions: { [`resources.memory@${M}`]: ['kube-apiserver uses', 'over its budget of 16 MiB'] },
      options(env) {
        const file = join(env.tmp, 'budgets.yaml');
        writeFileSync(file, stringify({ 'kube-apiserver': 16 }));
        return { budgetsFile: file };
      },
      async inject() {},
      async repair() {},
    },
    {
      id: 'ca-key-on-worker',
      title: 'the CA private key copied to node-1',
      expected: ['certs.ca-key-placement@node-1', 'security.ca-key-on-workers@node-1'],
      mentions: { 'certs.ca-key-placement@node-1': [`node-1:${CA_KEY}`, 'CA private key'] },
      async inject(env) {
        await env.host('node-1').ssh.writeFile(CA_KEY, await readFile(join(env.renderedDir, PKI_DIR, 'ca-key.pem')), 0o600);
      },
      repair: (env) => env.host('node-1').run(`rm -f ${CA_KEY}`).then(() => undefined),
    },
    {
      id: 'kubelet-serving-cert-expired',
      title: 'the kubelet serving certificate of node-1 expired',
      expected: ['certs.validity@node-1', 'kubelet.logs-exec-port-forward@node-1', 'security.cert-expiry@node-1'],
      mentions: { 'certs.validity@node-1': ['expired'], 'kubelet.logs-exec-port-forward@node-1': ['certificate'] },
      async inject(env) {
        const w = env.cluster.workers.find((x) => x.host === 'node-1')!;
        const pki = join(env.renderedDir, PKI_DIR);
        const ca = { spec: certPlan(env.cluster).ca, certPem: await readFile(join(pki, 'ca.pem'), 'utf8'), key: await readPrivateKey(await readFile(join(pki, 'ca-key.pem'), 'utf8')) };
        const spec = certPlan(env.cluster).certs.find((s) => s.id === `kubelet-${w.host}`)!;
        const key = await readPrivateKey(await readFile(join(pki, `${spec.id}-key.pem`), 'utf8'));
        const day = 86400_000;
        const cert = await issueLeaf(ca, spec, key, { notBefore: new Date(Date.now() - 400 * day), notAfter: new Date(Date.now() - 2 * day) });
        await env.host('node-1').ssh.writeFile(kubeletCert(w), cert.certPem, 0o644);
        await restart(env, 'node-1', 'kubelet');
      },
      async repair(env) {
        const w = env.cluster.workers.find((x) => x.host === 'node-1')!;
        await restoreFile(env, 'node-1', kubeletCert(w));
        await restart(env, 'node-1', 'kubelet');
      },
    },
    {
      id: 'ip-forward-off',
      title: 'net.ipv4.ip_forward switched off on node-1',
      // On the lab's kernel, traffic between cni0 and flannel.1 kept flowing in the node's network
      // namespace with forwarding off, so pod pings still pass; the setting itself is what the
      // seed requires, and hosts.sysctl reports it.
      expected: ['hosts.sysctl@node-1'],
      mentions: { 'hosts.sysctl@node-1': ['net.ipv4.ip_forward is 0', 'sysctl -w net.ipv4.ip_forward=1'] },
      inject: (env) => env.host('node-1').run('sysctl -qw net.ipv4.ip_forward=0').then(() => undefined),
      repair: (env) => env.host('node-1').run('sysctl -qw net.ipv4.ip_forward=1').then(() => undefined),
    },
    {
      id: 'gateway-stopped-on-node-2',
      title: 'the nginx gateway (ingress controller) gone from node-2',
      expected: ['ingress.gateway@node-2', 'ingress.plain-http@node-2', 'ingress.redirect@node-2', 'ingress.https@node-2'],
      mentions: { 'ingress.gateway@node-2': ['no pod on node node-2'], 'ingress.plain-http@node-2': ['refuses the connection'] },
      async inject(env) {
        await kubectl(env, `-n ${GATEWAY_NS} patch ds ${GATEWAY_DAEMONSET} --type merge -p '{"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-1"}}}}}'`);
        await kubectl(env, `-n ${GATEWAY_NS} rollout status ds/${GATEWAY_DAEMONSET} --timeout=120s`);
      },
      async repair(env) {
        await kubectl(env, `-n ${GATEWAY_NS} patch ds ${GATEWAY_DAEMONSET} --type json -p '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]'`);
        await kubectl(env, `-n ${GATEWAY_NS} rollout status ds/${GATEWAY_DAEMONSET} --timeout=180s`);
      },
    },
    {
      id: 'app-scaled-to-zero',
      title: 'the demo app scaled to zero (503 from the gateway)',
      expected: ['ingress.plain-http@node-1', 'ingress.plain-http@node-2', 'ingress.https@node-1', 'ingress.https@node-2', 'ingress.browser'],
      mentions: { 'ingress.plain-http@node-1': ['503', 'no ready endpoints'], 'ingress.https@node-2': ['503'] },
      async inject(env) {
        await kubectl(env, `-n ${APP_NS} scale deploy/${APP} --replicas=0`);
        await kubectl(env, `-n ${APP_NS} wait --for=delete pod -l app=${APP} --timeout=120s`);
      },
      async repair(env) {
        await kubectl(env, `-n ${APP_NS} scale deploy/${APP} --replicas=2`);
        await kubectl(env, `-n ${APP_NS} rollout status deploy/${APP} --timeout=180s`);
      },
    },
    {
      id: 'issuer-wrong-acme-url',
      title: 'the ClusterIssuer pointing at a wrong ACME URL',
      expected: ['ingress.issuer'],
      mentions: { 'ingress.issuer': ['is not Ready', 'acmeServer'] },
      settleSeconds: 5,
      async inject(env) {
        const wrong = env.cluster.ingress!.acmeServer.replace(/:(\d+)\//, (_, p: string) => `:${Number(p) + 1}/`);
        await kubectl(env, `patch clusterissuer ${CLUSTER_ISSUER} --type merge -p '{"spec":{"acme":{"server":"${wrong}"}}}'`);
        await kubectl(env, `wait clusterissuer/${CLUSTER_ISSUER} --for=condition=Ready=False --timeout=60s`);
      },
      async repair(env) {
        await kubectl(env, `patch clusterissuer ${CLUSTER_ISSUER} --type merge -p '{"spec":{"acme":{"server":"${env.cluster.ingress!.acmeServer}"}}}'`);
        await kubectl(env, `wait clusterissuer/${CLUSTER_ISSUER} --for=condition=Ready --timeout=120s`);
      },
    },
    {
      id: 'self-signed-cert-in-tls-secret',
      title: 'a self-signed certificate swapped into the TLS secret (cert-manager stopped so it stays)',
      expected: ['ingress.certificate', 'ingress.https@node-1', 'ingress.https@node-2', 'ingress.browser'],
      mentions: { 'ingress.certificate': ['self-signed'], 'ingress.https@node-1': ['does not verify'], 'ingress.browser': ['ERR_CERT_AUTHORITY_INVALID'] },
      settleSeconds: 5,
      async inject(env) {
        // cert-manager would repair the secret within seconds: the operator stopped it first.
        await kubectl(env, `-n ${CERT_MANAGER_NS} scale deploy/cert-manager --replicas=0`);
        await kubectl(env, `-n ${CERT_MANAGER_NS} wait --for=delete pod -l app.kubernetes.io/name=cert-manager --timeout=120s`);
        const host = env.cluster.ingress!.hosts[0]!;
        const self = await issueCa({ id: 'self-signed', title: 'self-signed', cn: host, usages: ['server'], dnsNames: [host], ipAddresses: [] });
        const secret = stringify({
          apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
          metadata: { name: APP_TLS_SECRET, namespace: APP_NS },
          data: { 'tls.crt': Buffer.from(self.certPem).toString('base64'), 'tls.key': Buffer.from(self.key.pem).toString('base64') },
        });
        await kubectl(env, 'apply -f -', secret);
      },
      async repair(env) {
        await kubectl(env, `-n ${CERT_MANAGER_NS} scale deploy/cert-manager --replicas=1`);
        await kubectl(env, `-n ${CERT_MANAGER_NS} rollout status deploy/cert-manager --timeout=180s`);
        // A fresh order from the ACME CA replaces the swapped secret.
        await kubectl(env, `-n ${APP_NS} delete secret ${APP_TLS_SECRET}`);
        await env.host(env.cluster.masters[0]!.host).waitFor('cert-manager', `a new certificate in ${APP_NS}/${APP_TLS_SECRET}`,
          `kubectl -n ${APP_NS} get secret ${APP_TLS_SECRET} >/dev/null 2>&1 && kubectl -n ${APP_NS} wait --for=condition=Ready certificate --all --timeout=5s >/dev/null`, 240_000);
      },
    },
    {
      id: 'dns-name-wrong-address',
      title: 'the app\'s DNS name resolving to an address no worker has',
      expected: ['ingress.dns', 'ingress.browser'],
      mentions: { 'ingress.dns': ['which is no worker'], 'ingress.browser': ['see ingress.dns'] },
      settleSeconds: 4,
      async inject(env) {
        const host = env.cluster.ingress!.hosts[0]!;
        const wrong = env.cluster.masters[0]!.address.replace(/\.\d+$/, '.99');
        await env.host('edge').run(`cp /etc/hardway-labdns/hosts /etc/hardway-labdns/hosts.hardway-fault && sed -i 's/^[0-9.]* ${host.replace(/\./g, '\\.')}$/${wrong} ${host}/' /etc/hardway-labdns/hosts && sort -u -o /etc/hardway-labdns/hosts /etc/hardway-labdns/hosts`);
      },
      async repair(env) {
        await env.host('edge').run('mv -f /etc/hardway-labdns/hosts.hardway-fault /etc/hardway-labdns/hosts');
        await new Promise((r) => setTimeout(r, 3000)); // the hosts plugin reloads every 2 s
      },
    },
  ];
}
