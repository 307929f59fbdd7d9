// Faults that prove the ingress suite: the seed's HTTPS edge broken the ways a visitor notices.
import { stringify } from 'yaml';
import type { Fault } from '../../harness/faults/fault.ts';
import { kubectl, sleep } from '../../harness/faults/ops.ts';
import {
  APP,
  APP_NS,
  APP_TLS_SECRET,
  CERT_MANAGER_NS,
  CLUSTER_ISSUER,
  GATEWAY_DAEMONSET,
  GATEWAY_NS,
} from '../../harness/edge/manifests.ts';
import { issueCa } from '../../harness/pki/issue.ts';

export const ingressFaults: Fault[] = [
  {
    id: 'gateway-gone-from-last-worker',
    title: 'the nginx gateway (ingress controller) gone from the last worker',
    on: 'lab',
    // kubectl runs on the master; the DaemonSet's new pod template rolls the gateway on every worker.
    touches: (r) => [r.master, ...r.workers],
    layoutsWhy: 'KTHW has no HTTPS edge',
    expect: (r) => {
      const w = r.workers.at(-1);
      return [
        { check: 'ingress.gateway', host: w, codes: ['gateway-missing'] },
        { check: 'ingress.plain-http', host: w, codes: ['connection-refused'] },
        { check: 'ingress.redirect', host: w, codes: ['connection-refused'] },
        { check: 'ingress.https', host: w, codes: ['connection-refused'] },
      ];
    },
    async inject(env) {
      const keep = env.cluster.workers[0]!.nodeName;
      await kubectl(
        env,
        `-n ${GATEWAY_NS} patch ds ${GATEWAY_DAEMONSET} --type merge -p '{"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/hostname":"${keep}"}}}}}'`,
      );
      await kubectl(env, `-n ${GATEWAY_NS} rollout status ds/${GATEWAY_DAEMONSET} --timeout=120s`);
    },
    async repair(env) {
      await kubectl(
        env,
        `-n ${GATEWAY_NS} patch ds ${GATEWAY_DAEMONSET} --type json -p '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]'`,
      );
      await kubectl(env, `-n ${GATEWAY_NS} rollout status ds/${GATEWAY_DAEMONSET} --timeout=180s`);
    },
  },
  {
    id: 'app-scaled-to-zero',
    title: 'the demo app scaled to zero (503 from the gateway)',
    on: 'lab',
    layoutsWhy: 'KTHW has no HTTPS edge',
    expect: (r) => [
      ...r.workers.map((w) => ({ check: 'ingress.plain-http', host: w, codes: ['backend-unavailable'] })),
      ...r.workers.map((w) => ({ check: 'ingress.https', host: w, codes: ['backend-unavailable'] })),
      { check: 'ingress.browser', codes: ['backend-unavailable'] },
    ],
    async inject(env) {
      await kubectl(env, `-n ${APP_NS} scale deploy/${APP} --replicas=0`);
      await kubectl(env, `-n ${APP_NS} wait --for=delete pod -l app=${APP} --timeout=120s`);
    },
    async repair(env) {
      await kubectl(env, `-n ${APP_NS} scale deploy/${APP} --replicas=${env.cluster.workers.length}`);
      await kubectl(env, `-n ${APP_NS} rollout status deploy/${APP} --timeout=180s`);
    },
  },
  {
    id: 'issuer-wrong-acme-url',
    title: 'the ClusterIssuer pointing at a wrong ACME URL',
    on: 'lab',
    layoutsWhy: 'KTHW has no HTTPS edge',
    expect: () => [{ check: 'ingress.issuer', codes: ['issuer-wrong-server'] }],
    async inject(env) {
      const wrong = env.cluster.ingress!.acmeServer.replace(/:(\d+)\//, (_, p: string) => `:${Number(p) + 1}/`);
      await kubectl(env, `patch clusterissuer ${CLUSTER_ISSUER} --type merge -p '{"spec":{"acme":{"server":"${wrong}"}}}'`);
      await kubectl(env, `wait clusterissuer/${CLUSTER_ISSUER} --for=condition=Ready=False --timeout=60s`);
    },
    async repair(env) {
      await kubectl(
        env,
        `patch clusterissuer ${CLUSTER_ISSUER} --type merge -p '{"spec":{"acme":{"server":"${env.cluster.ingress!.acmeServer}"}}}'`,
      );
      await kubectl(env, `wait clusterissuer/${CLUSTER_ISSUER} --for=condition=Ready --timeout=120s`);
    },
  },
  {
    id: 'self-signed-cert-in-tls-secret',
    title: 'a self-signed certificate swapped into the TLS secret (cert-manager stopped so it stays)',
    on: 'lab',
    layoutsWhy: 'KTHW has no HTTPS edge',
    expect: (r) => [
      { check: 'ingress.certificate', codes: ['self-signed'] },
      ...r.workers.map((w) => ({ check: 'ingress.https', host: w, codes: ['certificate-untrusted'] })),
      { check: 'ingress.browser', codes: ['certificate-refused'] },
    ],
    async inject(env) {
      // cert-manager would repair the secret within seconds: the operator stopped it first.
      await kubectl(env, `-n ${CERT_MANAGER_NS} scale deploy/cert-manager --replicas=0`);
      await kubectl(env, `-n ${CERT_MANAGER_NS} wait --for=delete pod -l app.kubernetes.io/name=cert-manager --timeout=120s`);
      const host = env.cluster.ingress!.hosts[0]!;
      const self = await issueCa({
        id: 'self-signed',
        title: 'self-signed',
        cn: host,
        usages: ['server'],
        dnsNames: [host],
        ipAddresses: [],
      });
      const secret = stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: APP_TLS_SECRET, namespace: APP_NS },
        data: { 'tls.crt': Buffer.from(self.certPem).toString('base64'), 'tls.key': Buffer.from(self.key.pem).toString('base64') },
      });
      await kubectl(env, 'apply -f -', secret);
      // The gateway reloads nginx when the secret changes.
      await sleep(3000);
    },
    async repair(env) {
      await kubectl(env, `-n ${CERT_MANAGER_NS} scale deploy/cert-manager --replicas=1`);
      await kubectl(env, `-n ${CERT_MANAGER_NS} rollout status deploy/cert-manager --timeout=180s`);
      // A fresh order from the ACME CA replaces the swapped secret.
      await kubectl(env, `-n ${APP_NS} delete secret ${APP_TLS_SECRET}`);
      await env
        .host(env.master)
        .waitFor(
          'cert-manager',
          `a new certificate in ${APP_NS}/${APP_TLS_SECRET}`,
          `kubectl -n ${APP_NS} get secret ${APP_TLS_SECRET} >/dev/null 2>&1 && kubectl -n ${APP_NS} wait --for=condition=Ready certificate --all --timeout=5s >/dev/null`,
          240_000,
        );
    },
  },
  {
    id: 'dns-name-wrong-address',
    title: "the app's DNS name resolving to an address no worker has",
    on: 'lab',
    layoutsWhy: 'KTHW has no HTTPS edge',
    expect: () => [
      { check: 'ingress.dns', codes: ['name-not-on-workers'] },
      { check: 'ingress.browser', codes: ['page-unreachable'] },
    ],
    async inject(env) {
      const host = env.cluster.ingress!.hosts[0]!;
      const wrong = env.cluster.masters[0]!.address.replace(/\.\d+$/, '.99');
      await env
        .host('edge')
        .run(
          `cp /etc/hardway-labdns/hosts /etc/hardway-labdns/hosts.hardway-fault && sed -i 's/^[0-9.]* ${host.replace(/\./g, '\\.')}$/${wrong} ${host}/' /etc/hardway-labdns/hosts && sort -u -o /etc/hardway-labdns/hosts /etc/hardway-labdns/hosts`,
        );
      await sleep(3000); // the hosts plugin reloads every 2 s
    },
    async repair(env) {
      await env.host('edge').run('mv -f /etc/hardway-labdns/hosts.hardway-fault /etc/hardway-labdns/hosts');
      await sleep(3000);
    },
  },
];
