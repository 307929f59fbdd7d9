// The HTTPS edge as Kubernetes objects, written as code from the cluster model (no templates, no
// registry): cert-manager (CRDs from its module, RBAC, controller, webhook, cainjector), the
// NGINX-based gateway controller as a DaemonSet on host ports 80/443 (the seed's nginx-ingress
// daemon-set, see docs/lab.md for why it is NGINX Gateway Fabric), the ACME ClusterIssuer, and the
// seed's demo application: namespace + service account, configmap, secret, deployment with a
// replica on every worker, service, certificate (the seed's tls-production.yaml), a plain-HTTP
// route for no-https.<domain> and a TLS route for <domain>, with HTTP redirected to HTTPS there.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Cluster } from '../model/cluster.ts';
import { CERT_MANAGER_VERSION, NGF_VERSION } from '../binaries/manifest.ts';
import { CERT_MANAGER_IMAGES, GATEWAY_IMAGE } from '../images/edge-images.ts';
import { DEMO_APP_IMAGE } from '../images/pod-images.ts';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

export const CERT_MANAGER_NS = 'cert-manager';
export const GATEWAY_NS = 'nginx-gateway';
export const GATEWAY_CLASS = 'nginx';
export const GATEWAY_CONTROLLER = 'gateway.nginx.org/nginx-gateway-controller';
export const GATEWAY_DAEMONSET = 'nginx-gateway';
export const GATEWAY_POD_LABELS = { 'app.kubernetes.io/name': 'nginx-gateway', 'app.kubernetes.io/instance': 'nginx-gateway' };
/** The seed's application, by the seed's name for it. */
export const APP = 'kubernetes-example';
export const APP_NS = APP;
export const APP_PORT = 8000;
export const APP_TLS_SECRET = `${APP}-tls`;
export const CLUSTER_ISSUER = 'acme';
export const WEBHOOK_CA_SECRET = 'cert-manager-webhook-ca';
/** Marks every object hardway's edge installer made (for finding and removing them). */
export const EDGE_LABEL = { 'app.kubernetes.io/part-of': 'hardway-edge' };

const meta = (name: string, namespace?: string, labels: Record<string, string> = {}, annotations?: Record<string, string>) => ({
  name,
  ...(namespace ? { namespace } : {}),
  labels: { ...EDGE_LABEL, ...labels },
  ...(annotations ? { annotations } : {}),
});

/** CRD documents of the pinned modules (module folder from `go mod download`). */
export function crdsFrom(files: string[]): K8sObject[] {
  const out: K8sObject[] = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
      const o = doc.toJS() as K8sObject | null;
      if (o?.kind === 'CustomResourceDefinition') out.push(o);
    }
  }
  return out;
}

export interface ModuleDirs {
  certManager: string;
  gatewayApi: string;
  ngf: string;
}

export function edgeCrds(dirs: ModuleDirs): K8sObject[] {
  const cm = join(dirs.certManager, 'deploy/crds');
  const gw = join(dirs.gatewayApi, 'config/crd/standard');
  const crds = crdsFrom([
    ...readdirSync(gw)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => join(gw, f)),
    join(dirs.ngf, 'deploy/crds.yaml'),
    ...readdirSync(cm)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => join(cm, f)),
  ]);
  // The release manifests label cert-manager's CRDs; the source ones do not.
  for (const c of crds) {
    if (String(c.metadata.name).endsWith('cert-manager.io')) {
      c.metadata.labels = {
        ...(c.metadata.labels as object),
        'app.kubernetes.io/name': 'cert-manager',
        'app.kubernetes.io/instance': 'cert-manager',
        'app.kubernetes.io/version': CERT_MANAGER_VERSION,
      };
    }
  }
  return crds;
}

const rule = (apiGroups: string[], resources: string[], verbs: string[]) => ({ apiGroups, resources, verbs });
const RW = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const RO = ['get', 'list', 'watch'];

function clusterRole(name: string, rules: object[], sa: string, ns: string): K8sObject[] {
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(name), rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    },
  ];
}

const envFromPod = [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }];

function deployment(
  name: string,
  ns: string,
  sa: string,
  image: string,
  args: string[],
  extra: Record<string, unknown> = {},
  ports: object[] = [],
  builds = '',
): K8sObject {
  const labels = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': 'cert-manager',
    'app.kubernetes.io/version': CERT_MANAGER_VERSION,
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name, ns, labels),
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels: { ...labels, ...EDGE_LABEL }, ...(builds ? { annotations: { [IMAGES_ANNOTATION]: builds } } : {}) },
        spec: {
          serviceAccountName: sa,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name,
              image,
              imagePullPolicy: 'Never',
              args,
              env: envFromPod,
              ports,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              resources: { requests: { cpu: '10m', memory: '32Mi' } },
              ...extra,
            },
          ],
        },
      },
    },
  };
}

/** Pod annotation naming the image builds a pod runs: a rebuilt image (same tag) rolls the pods. */
export const IMAGES_ANNOTATION = 'hardway.io/image-builds';

export interface EdgeInput {
  cluster: Cluster;
  /** PEM the ACME client trusts for the ACME server's TLS (the lab's Pebble); absent for public CAs. */
  acmeCaBundle?: string;
  /** Random, made at install: the seed's secret-example.yaml, filled in. */
  appSecretToken: string;
}

/** `builds`: what identifies the image builds (IMAGES_ANNOTATION); see installEdge. */
export function certManagerObjects(builds = ''): K8sObject[] {
  const ns = CERT_MANAGER_NS;
  const cm = 'cert-manager';
  const webhook = 'cert-manager-webhook';
  const cainjector = 'cert-manager-cainjector';
  const webhookDns = [webhook, `${webhook}.${ns}`, `${webhook}.${ns}.svc`];
  const webhookClient = (path: string) => ({ service: { name: webhook, namespace: ns, path } });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns) },
    ...[cm, webhook, cainjector].map(
      (n): K8sObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(n, ns), automountServiceAccountToken: true }),
    ),
    ...clusterRole(
      'cert-manager-controller',
      [
        rule(['cert-manager.io'], ['*'], ['*']), // includes the "approve" verb on signers for its own issuers
        rule(['acme.cert-manager.io'], ['*'], ['*']),
        rule([''], ['secrets'], RW),
        rule([''], ['events'], ['create', 'patch']),
        rule([''], ['pods', 'services'], RW), // HTTP-01 solver pods and services
        rule(['networking.k8s.io'], ['ingresses', 'ingresses/finalizers'], RW),
        rule(
          ['gateway.networking.k8s.io'],
          ['gateways', 'gateways/finalizers', 'httproutes', 'httproutes/finalizers', 'listenersets', 'listenersets/finalizers'],
          RW,
        ),
        rule(['coordination.k8s.io'], ['leases'], RW),
        rule(
          ['certificates.k8s.io'],
          ['certificatesigningrequests', 'certificatesigningrequests/status'],
          ['get', 'list', 'watch', 'update', 'patch'],
        ),
        rule(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
      ],
      cm,
      ns,
    ),
    ...clusterRole(
      'cert-manager-webhook',
      [
        rule(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
        rule([''], ['secrets'], RW), // its dynamic serving CA (cert-manager-webhook-ca)
      ],
      webhook,
      ns,
    ),
    ...clusterRole(
      'cert-manager-cainjector',
      [
        rule(['cert-manager.io'], ['certificates'], RO),
        rule([''], ['secrets'], RO),
        rule([''], ['events'], ['create', 'patch']),
        rule(
          ['admissionregistration.k8s.io'],
          ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'],
          ['get', 'list', 'watch', 'update', 'patch'],
        ),
        rule(['apiregistration.k8s.io'], ['apiservices'], ['get', 'list', 'watch', 'update', 'patch']),
        rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['get', 'list', 'watch', 'update', 'patch']),
        rule(['coordination.k8s.io'], ['leases'], RW),
      ],
      cainjector,
      ns,
    ),
    deployment(
      cm,
      ns,
      cm,
      CERT_MANAGER_IMAGES.controller,
      [
        '--v=2',
        `--cluster-resource-namespace=${ns}`,
        `--leader-election-namespace=${ns}`,
        `--acme-http01-solver-image=${CERT_MANAGER_IMAGES.acmesolver}`,
        '--enable-gateway-api',
        '--healthz-listen-address=0.0.0.0:9403',
        // The first self-check of the HTTP-01 challenge runs before its solver pod serves, and the
        // next one waits this long (10 s by default): the lab's edge spent most of its
        // certificate's 20 s there. A lab value: a real cluster's default is fine.
        '--dns01-check-retry-period=2s',
      ],
      { livenessProbe: { httpGet: { path: '/livez', port: 9403 }, periodSeconds: 10, failureThreshold: 8 } },
      [{ containerPort: 9402, name: 'metrics' }],
      builds,
    ),
    deployment(cainjector, ns, cainjector, CERT_MANAGER_IMAGES.cainjector, ['--v=2', `--leader-election-namespace=${ns}`], {}, [], builds),
    deployment(
      webhook,
      ns,
      webhook,
      CERT_MANAGER_IMAGES.webhook,
      [
        '--v=2',
        '--secure-port=10250',
        '--healthz-port=6080',
        `--dynamic-serving-ca-secret-namespace=${ns}`,
        `--dynamic-serving-ca-secret-name=${WEBHOOK_CA_SECRET}`,
        `--dynamic-serving-dns-names=${webhookDns.join(',')}`,
      ],
      {
        readinessProbe: { httpGet: { path: '/healthz', port: 6080 }, periodSeconds: 2 },
        livenessProbe: { httpGet: { path: '/livez', port: 6080 }, periodSeconds: 10, failureThreshold: 6 },
      },
      [
        { containerPort: 10250, name: 'https' },
        { containerPort: 6080, name: 'healthcheck' },
      ],
      builds,
    ),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(webhook, ns),
      spec: {
        selector: { 'app.kubernetes.io/name': webhook },
        ports: [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: meta(webhook, undefined, {}, { 'cert-manager.io/inject-ca-from-secret': `${ns}/${WEBHOOK_CA_SECRET}` }),
      webhooks: [
        {
          name: 'webhook.cert-manager.io',
          // cert-manager's own namespace is exempt, so that the webhook's CA secret can always be written.
          namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [ns] }] },
          rules: [
            {
              apiGroups: ['cert-manager.io', 'acme.cert-manager.io'],
              apiVersions: ['v1'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['*/*'],
            },
          ],
          admissionReviewVersions: ['v1'],
          matchPolicy: 'Equivalent',
          timeoutSeconds: 30,
          failurePolicy: 'Fail',
          sideEffects: 'None',
          clientConfig: webhookClient('/validate'),
        },
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: meta(webhook, undefined, {}, { 'cert-manager.io/inject-ca-from-secret': `${ns}/${WEBHOOK_CA_SECRET}` }),
      webhooks: [
        {
          name: 'webhook.cert-manager.io',
          rules: [{ apiGroups: ['cert-manager.io'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['certificaterequests'] }],
          admissionReviewVersions: ['v1'],
          matchPolicy: 'Equivalent',
          timeoutSeconds: 30,
          failurePolicy: 'Fail',
          sideEffects: 'None',
          clientConfig: webhookClient('/mutate'),
        },
      ],
    },
  ];
}

/** Every container of the gateway pod runs as nginx's user (uid 101, group 1001 as upstream's). */
const NGINX_UID = 101;
/** The gateway's containers (init, control plane, nginx) run as nginx's uid with nothing else
 * (see the nginx container's comment). */
const GATEWAY_SECURITY_CONTEXT = {
  runAsUser: NGINX_UID,
  runAsGroup: 1001,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};

/** NGINX Gateway Fabric as the seed's nginx-ingress daemon-set: one gateway pod per worker, host ports 80/443. */
export function gatewayObjects(builds = ''): K8sObject[] {
  const ns = GATEWAY_NS;
  const name = GATEWAY_DAEMONSET;
  const labels = { ...GATEWAY_POD_LABELS, 'app.kubernetes.io/version': NGF_VERSION.slice(1) };
  const mounts = [
    { mountPath: '/etc/nginx/conf.d', name: 'nginx-conf' },
    { mountPath: '/etc/nginx/stream-conf.d', name: 'nginx-stream-conf' },
    { mountPath: '/etc/nginx/main-includes', name: 'nginx-main-includes' },
    { mountPath: '/etc/nginx/secrets', name: 'nginx-secrets' },
    { mountPath: '/var/run/nginx', name: 'nginx-run' },
    { mountPath: '/etc/nginx/includes', name: 'nginx-includes' },
  ];
  const emptyDirs = [
    'nginx-conf',
    'nginx-stream-conf',
    'nginx-main-includes',
    'nginx-secrets',
    'nginx-run',
    'nginx-cache',
    'nginx-includes',
    'nginx-lib',
    'nginx-log',
  ];
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name, ns) },
    ...clusterRole(
      name,
      [
        rule([''], ['namespaces', 'services', 'secrets'], RO),
        rule([''], ['pods'], ['get']),
        rule(['apps'], ['replicasets', 'daemonsets'], ['get']),
        rule([''], ['nodes'], ['list']),
        rule([''], ['events'], ['create', 'patch']),
        rule(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch']),
        rule(
          ['gateway.networking.k8s.io'],
          ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants', 'grpcroutes'],
          ['list', 'watch'],
        ),
        rule(
          ['gateway.networking.k8s.io'],
          ['httproutes/status', 'gateways/status', 'gatewayclasses/status', 'grpcroutes/status'],
          ['update'],
        ),
        rule(['gateway.nginx.org'], ['nginxgateways'], RO),
        rule(
          ['gateway.nginx.org'],
          ['nginxproxies', 'clientsettingspolicies', 'observabilitypolicies', 'upstreamsettingspolicies'],
          ['list', 'watch'],
        ),
        rule(
          ['gateway.nginx.org'],
          ['nginxgateways/status', 'clientsettingspolicies/status', 'observabilitypolicies/status', 'upstreamsettingspolicies/status'],
          ['update'],
        ),
        rule(['coordination.k8s.io'], ['leases'], ['create', 'get', 'update']),
        rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['list', 'watch']),
      ],
      name,
      ns,
    ),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('nginx-includes-bootstrap', ns),
      data: { 'main.conf': 'error_log stderr info;\n' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name, ns),
      spec: {
        selector: GATEWAY_POD_LABELS,
        ports: [
          { name: 'http', port: 80, targetPort: 80, protocol: 'TCP' },
          { name: 'https', port: 443, targetPort: 443, protocol: 'TCP' },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(name, ns, labels),
      spec: {
        selector: { matchLabels: GATEWAY_POD_LABELS },
        template: {
          metadata: { labels: { ...labels, ...EDGE_LABEL }, ...(builds ? { annotations: { [IMAGES_ANNOTATION]: builds } } : {}) },
          spec: {
            serviceAccountName: name,
            // The control plane signals nginx (SIGHUP) and reads its /proc: one process namespace.
            shareProcessNamespace: true,
            terminationGracePeriodSeconds: 30,
            // nginx runs as uid 101 and binds 80/443 in the pod's network namespace: upstream's image
            // grants it CAP_NET_BIND_SERVICE as a file capability; here the namespaced sysctl does it.
            securityContext: {
              runAsNonRoot: true,
              fsGroup: 1001,
              sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
              seccompProfile: { type: 'RuntimeDefault' },
            },
            initContainers: [
              {
                name: 'init',
                image: GATEWAY_IMAGE,
                imagePullPolicy: 'Never',
                command: ['/usr/bin/gateway', 'initialize', '--source', '/includes/main.conf', '--destination', '/etc/nginx/main-includes'],
                env: [{ name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } }],
                securityContext: GATEWAY_SECURITY_CONTEXT,
                volumeMounts: [
                  { mountPath: '/includes', name: 'nginx-includes-bootstrap' },
                  { mountPath: '/etc/nginx/main-includes', name: 'nginx-main-includes' },
                ],
              },
            ],
            containers: [
              {
                name: 'nginx-gateway',
                image: GATEWAY_IMAGE,
                imagePullPolicy: 'Never',
                args: [
                  'static-mode',
                  `--gateway-ctlr-name=${GATEWAY_CONTROLLER}`,
                  `--gatewayclass=${GATEWAY_CLASS}`,
                  '--config=nginx-gateway-config',
                  `--service=${name}`,
                  '--metrics-port=9113',
                  '--health-port=8081',
                  '--leader-election-lock-name=nginx-gateway-leader-election',
                  '--product-telemetry-disable',
                ],
                env: ['POD_IP:status.podIP', 'POD_NAMESPACE:metadata.namespace', 'POD_NAME:metadata.name', 'POD_UID:metadata.uid'].map(
                  (s) => {
                    const [n, path] = s.split(':') as [string, string];
                    return { name: n, valueFrom: { fieldRef: { fieldPath: path } } };
                  },
                ),
                ports: [
                  { containerPort: 9113, name: 'metrics' },
                  { containerPort: 8081, name: 'health' },
                ],
                readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, initialDelaySeconds: 3, periodSeconds: 1 },
                // nginx's uid: the control plane signals nginx and reads its /proc entries. Upstream
                // runs it as 102 with CAP_KILL as a file capability on its binary, which the image
                // tar here does not carry; one uid needs no capability at all.
                securityContext: GATEWAY_SECURITY_CONTEXT,
                resources: { requests: { cpu: '10m', memory: '32Mi' } },
                volumeMounts: mounts,
              },
              {
                name: 'nginx',
                image: GATEWAY_IMAGE,
                imagePullPolicy: 'Never',
                command: ['sh', '-c', "rm -rf /var/run/nginx/*.sock && exec nginx -g 'daemon off;'"],
                ports: [
                  { containerPort: 80, hostPort: 80, name: 'http' },
                  { containerPort: 443, hostPort: 443, name: 'https' },
                ],
                securityContext: GATEWAY_SECURITY_CONTEXT,
                resources: { requests: { cpu: '10m', memory: '32Mi' } },
                volumeMounts: [
                  ...mounts,
                  { mountPath: '/var/cache/nginx', name: 'nginx-cache' },
                  { mountPath: '/var/lib/nginx', name: 'nginx-lib' },
                  { mountPath: '/var/log/nginx', name: 'nginx-log' },
                ],
              },
            ],
            volumes: [
              ...emptyDirs.map((n) => ({ name: n, emptyDir: {} })),
              { name: 'nginx-includes-bootstrap', configMap: { name: 'nginx-includes-bootstrap' } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: meta(GATEWAY_CLASS),
      spec: { controllerName: GATEWAY_CONTROLLER },
    },
    {
      apiVersion: 'gateway.nginx.org/v1alpha1',
      kind: 'NginxGateway',
      metadata: meta('nginx-gateway-config', ns),
      spec: { logging: { level: 'info' } },
    },
  ];
}

/** The ACME ClusterIssuer (the seed's letsencrypt issuer), solving HTTP-01 through the app's gateway. */
export function issuerObjects(input: EdgeInput): K8sObject[] {
  const ing = input.cluster.ingress!;
  return [
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: meta(CLUSTER_ISSUER),
      spec: {
        acme: {
          server: ing.acmeServer,
          email: ing.acmeEmail,
          ...(input.acmeCaBundle ? { caBundle: Buffer.from(input.acmeCaBundle).toString('base64') } : {}),
          privateKeySecretRef: { name: 'acme-account-key' },
          solvers: [
            {
              http01: {
                gatewayHTTPRoute: {
                  parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: APP, namespace: APP_NS, sectionName: 'http' }],
                },
              },
            },
          ],
        },
      },
    },
  ];
}

/** The seed's application (app/k8s): the demo app behind the gateway, with its certificate. */
export function appObjects(input: EdgeInput): K8sObject[] {
  const c = input.cluster;
  const ing = c.ingress!;
  const ns = APP_NS;
  const labels = { app: APP };
  const backend = [{ name: APP, port: 80 }];
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(APP, ns), automountServiceAccountToken: false },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(APP, ns, labels),
      data: { message: `served by ${c.name} through the HTTPS edge` },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: meta(APP, ns, labels), type: 'Opaque', stringData: { token: input.appSecretToken } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(APP, ns, labels),
      spec: {
        replicas: c.workers.length,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels: { ...labels, ...EDGE_LABEL } },
          spec: {
            serviceAccountName: APP,
            // One replica on every worker, as the seed's deployment spreads them.
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
                ],
              },
            },
            containers: [
              {
                name: APP,
                image: DEMO_APP_IMAGE,
                imagePullPolicy: 'Never',
                ports: [{ containerPort: APP_PORT, name: 'http' }],
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  { name: 'GREETING', value: `Hello from ${ing.hosts[0] ?? APP}` },
                ],
                readinessProbe: { httpGet: { path: '/status/', port: APP_PORT }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: '/status/', port: APP_PORT }, periodSeconds: 10 },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/demo', readOnly: true },
                  { name: 'secret', mountPath: '/etc/demo-secret', readOnly: true },
                ],
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: 65532,
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: APP } },
              { name: 'secret', secret: { secretName: APP } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(APP, ns, labels),
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: APP_PORT, protocol: 'TCP' }] },
    },
    ...(ing.hosts.length
      ? [
          {
            apiVersion: 'cert-manager.io/v1',
            kind: 'Certificate',
            metadata: meta(APP, ns, labels),
            spec: {
              secretName: APP_TLS_SECRET,
              dnsNames: ing.hosts,
              issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: CLUSTER_ISSUER },
            },
          },
        ]
      : []),
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: meta(APP, ns, labels),
      spec: {
        gatewayClassName: GATEWAY_CLASS,
        listeners: [
          { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } },
          ...ing.hosts.map((h, i) => ({
            name: i === 0 ? 'https' : `https-${i}`,
            port: 443,
            protocol: 'HTTPS',
            hostname: h,
            tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: APP_TLS_SECRET }] },
            allowedRoutes: { namespaces: { from: 'Same' } },
          })),
        ],
      },
    },
    ...(ing.plainHosts.length
      ? [
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'HTTPRoute',
            metadata: meta('no-https', ns, labels),
            spec: { parentRefs: [{ name: APP, sectionName: 'http' }], hostnames: ing.plainHosts, rules: [{ backendRefs: backend }] },
          },
        ]
      : []),
    ...(ing.hosts.length
      ? [
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'HTTPRoute',
            metadata: meta(APP, ns, labels),
            spec: {
              parentRefs: ing.hosts.map((_, i) => ({ name: APP, sectionName: i === 0 ? 'https' : `https-${i}` })),
              hostnames: ing.hosts,
              rules: [{ backendRefs: backend }],
            },
          },
          {
            // The seed's ingress-production.yaml redirects HTTP to HTTPS; the ACME challenge routes
            // cert-manager adds (exact paths) take precedence over this "/" prefix.
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'HTTPRoute',
            metadata: meta(`${APP}-redirect`, ns, labels),
            spec: {
              parentRefs: [{ name: APP, sectionName: 'http' }],
              hostnames: ing.hosts,
              rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
            },
          },
        ]
      : []),
  ];
}
