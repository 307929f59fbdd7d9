// The HTTPS edge as code: the objects the installer applies, Pebble's configuration, cert-manager's
// status in one line, and the ingress suite's judgement of a certificate chain.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadCluster } from '../model/load.ts';
import { generateRsaKey } from '../pki/keys.ts';
import { issueCa, issueLeaf } from '../pki/issue.ts';
import { serverSpec } from '../pki/plan.ts';
import { pebbleConfig, pebbleTlsScript, pebbleUnit, PEBBLE_VALIDITY_SECONDS } from '../providers/lab/acme.ts';
import { judgeChain } from '../../suites/ingress/ingress.ts';
import { describeAcmeState, ownedChain, type CmObject } from './acme-status.ts';
import {
  APP,
  APP_TLS_SECRET,
  CLUSTER_ISSUER,
  IMAGES_ANNOTATION,
  type K8sObject,
  appObjects,
  certManagerObjects,
  gatewayObjects,
  issuerObjects,
} from './manifests.ts';
import { toYaml } from './install.ts';

const cluster = loadCluster(join(import.meta.dirname, '../../fixtures/lab/cluster.yaml'));
const find = (objs: K8sObject[], kind: string, name?: string) => objs.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
type Pod = {
  containers: { image: string; imagePullPolicy: string; ports?: { hostPort?: number }[]; args?: string[] }[];
  initContainers?: { image: string; imagePullPolicy: string }[];
};
const podSpecs = (objs: K8sObject[]) =>
  objs.filter((o) => ['Deployment', 'DaemonSet'].includes(o.kind)).map((o) => (o.spec as { template: { spec: Pod } }).template.spec);

describe('edge manifests', () => {
  const app = appObjects({ cluster, appSecretToken: 'test-token' });
  const all = [
    ...certManagerObjects('b1'),
    ...gatewayObjects('b1'),
    ...issuerObjects({ cluster, appSecretToken: '', acmeCaBundle: 'PEM' }),
    ...app,
  ];

  it('runs only locally built images, never pulling', () => {
    for (const p of podSpecs(all)) {
      for (const c of [...p.containers, ...(p.initContainers ?? [])]) {
        expect(c.imagePullPolicy).toBe('Never');
        expect(c.image).toMatch(/^hardway\.local\//);
      }
    }
  });

  it("deploys the seed's application: namespace, service account, configmap, secret, one replica per worker, service", () => {
    for (const kind of ['Namespace', 'ServiceAccount', 'ConfigMap', 'Secret', 'Deployment', 'Service'])
      expect(find(app, kind, APP)).toHaveLength(1);
    const dep = find(app, 'Deployment', APP)[0]!.spec as {
      replicas: number;
      template: { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { topologyKey: string }[] } } } };
    };
    expect(dep.replicas).toBe(cluster.workers.length);
    expect(dep.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]!.topologyKey).toBe(
      'kubernetes.io/hostname',
    );
  });

  it('asks cert-manager for the TLS names and serves them from that secret, plain names over HTTP, with a redirect to HTTPS', () => {
    const cert = find(app, 'Certificate', APP)[0]!.spec as {
      dnsNames: string[];
      secretName: string;
      issuerRef: { kind: string; name: string };
    };
    expect(cert).toMatchObject({
      dnsNames: cluster.ingress!.hosts,
      secretName: APP_TLS_SECRET,
      issuerRef: { kind: 'ClusterIssuer', name: CLUSTER_ISSUER },
    });
    const gw = find(app, 'Gateway', APP)[0]!.spec as {
      listeners: { protocol: string; port: number; tls?: { certificateRefs: { name: string }[] } }[];
    };
    expect(gw.listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['HTTP:80', 'HTTPS:443']);
    expect(gw.listeners[1]!.tls!.certificateRefs[0]!.name).toBe(APP_TLS_SECRET);
    expect((find(app, 'HTTPRoute', 'no-https')[0]!.spec as { hostnames: string[] }).hostnames).toEqual(cluster.ingress!.plainHosts);
    const redirect = find(app, 'HTTPRoute', `${APP}-redirect`)[0]!.spec as {
      rules: { filters: { requestRedirect: { scheme: string } }[] }[];
    };
    expect(redirect.rules[0]!.filters[0]!.requestRedirect.scheme).toBe('https');
  });

  it("configures the ClusterIssuer with the ACME server's CA bundle and never switches TLS verification off", () => {
    const acme = (issuerObjects({ cluster, appSecretToken: '', acmeCaBundle: 'PEM' })[0]!.spec as { acme: Record<string, unknown> }).acme;
    expect(acme.server).toBe(cluster.ingress!.acmeServer);
    expect(Buffer.from(acme.caBundle as string, 'base64').toString()).toBe('PEM');
    expect(toYaml(all)).not.toMatch(/skipTLSVerify|insecure/i);
    expect('caBundle' in (issuerObjects({ cluster, appSecretToken: '' })[0]!.spec as { acme: object }).acme).toBe(false);
  });

  it('runs the gateway as a DaemonSet on host ports 80/443, without product telemetry, rolled by image builds', () => {
    const ds = find(gatewayObjects('b1'), 'DaemonSet')[0]!;
    const tpl = (ds.spec as { template: { metadata: { annotations: Record<string, string> }; spec: Pod } }).template;
    expect(tpl.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.hostPort)).filter(Boolean)).toEqual([80, 443]);
    expect(tpl.spec.containers[0]!.args).toContain('--product-telemetry-disable');
    expect(tpl.metadata.annotations[IMAGES_ANNOTATION]).toBe('b1');
  });

  it("registers cert-manager's webhooks through its Service with the CA injected by cainjector", () => {
    const v = find(certManagerObjects(), 'ValidatingWebhookConfiguration')[0]!;
    expect((v.metadata as unknown as { annotations: Record<string, string> }).annotations['cert-manager.io/inject-ca-from-secret']).toBe(
      'cert-manager/cert-manager-webhook-ca',
    );
    expect(JSON.stringify(v)).toContain('"service":{"name":"cert-manager-webhook"');
  });
});

describe('Pebble on the edge', () => {
  it('validates on the real ports through the lab DNS, issues 90-day certificates', () => {
    const cfg = JSON.parse(pebbleConfig(14000)) as { pebble: Record<string, unknown> };
    expect(cfg.pebble).toMatchObject({
      listenAddress: '0.0.0.0:14000',
      httpPort: 80,
      tlsPort: 443,
      certificateValidityPeriod: PEBBLE_VALIDITY_SECONDS,
    });
    expect(pebbleUnit('10.240.0.2:53')).toContain('-dnsserver 10.240.0.2:53');
    expect(pebbleUnit('10.240.0.2:53')).not.toContain('PEBBLE_VA_ALWAYS_VALID');
  });

  it('makes its TLS certificate for the edge address and keeps no CA key', () => {
    const s = pebbleTlsScript('10.240.0.2');
    expect(s).toContain('subjectAltName=IP:10.240.0.2');
    expect(s).toMatch(/rm -f ca-key\.pem/);
  });
});

describe('cert-manager status in one line', () => {
  const cert: CmObject = {
    metadata: { name: 'app' },
    status: {
      conditions: [{ type: 'Ready', status: 'False', reason: 'DoesNotExist', message: 'Issuing certificate as Secret does not exist' }],
    },
  };
  const req: CmObject = {
    metadata: { name: 'app-1', ownerReferences: [{ name: 'app' }], annotations: { 'cert-manager.io/certificate-revision': '1' } },
    status: {
      conditions: [
        { type: 'Ready', status: 'False', reason: 'Pending', message: 'Waiting on certificate issuance from order app-1-123: "pending"' },
      ],
    },
  };
  const order: CmObject = { metadata: { name: 'app-1-123', ownerReferences: [{ name: 'app-1' }] }, status: { state: 'pending' } };
  const ch: CmObject = {
    metadata: { name: 'app-1-123-9', ownerReferences: [{ name: 'app-1-123' }] },
    spec: { type: 'HTTP-01', dnsName: 'kubernetes-example.lab.test' },
    status: {
      state: 'pending',
      presented: true,
      processing: true,
      reason: "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'",
    },
  };
  const other: CmObject = { metadata: { name: 'x-1-5', ownerReferences: [{ name: 'x-1' }] }, status: { state: 'valid' } };

  it('names the challenge, the order, the request and the certificate, most specific first', () => {
    const line = describeAcmeState({ certificate: cert, ...ownedChain(cert, [req], [order, other], [ch]) });
    expect(line).toMatch(
      /^Challenge app-1-123-9 \(HTTP-01 for kubernetes-example\.lab\.test\): state pending, presented=true, processing=true: Waiting for HTTP-01 challenge propagation: wrong status code '404'/,
    );
    expect(line).toContain('Order app-1-123: state pending');
    expect(line).toContain('Certificate app: Ready=False (DoesNotExist)');
    expect(line).not.toContain('x-1-5');
  });
});

describe("the ingress suite's chain judgement", () => {
  const spec = serverSpec;

  it('accepts a leaf for the host whose chain reaches the ACME root', async () => {
    const root = await issueCa(spec('Pebble Root CA'));
    const leafKey = await generateRsaKey();
    const leaf = await issueLeaf(root, spec('', ['kubernetes-example.lab.test']), leafKey, {
      notAfter: new Date(Date.now() + 90 * 86400_000),
    });
    const v = await judgeChain('s', 'kubernetes-example.lab.test', leaf.certPem, leafKey.pem, {
      roots: [root.certPem],
      source: 'the root',
    });
    expect(v.problems).toEqual([]);
  });

  it('names a self-signed certificate, a missing name, a foreign key and a five-year lifetime', async () => {
    const root = await issueCa(spec('Pebble Root CA'));
    const self = await issueCa(spec('kubernetes-example.lab.test'));
    const v = await judgeChain('s', 'kubernetes-example.lab.test', self.certPem, self.key.pem, {
      roots: [root.certPem],
      source: 'the root',
    });
    expect(v.problems.join('\n')).toMatch(/self-signed \(CN=kubernetes-example\.lab\.test[^)]*\), not issued by the ACME CA/);
    expect(v.problems.join('\n')).toMatch(/does not name kubernetes-example\.lab\.test/);
    const key = await generateRsaKey();
    const leaf = await issueLeaf(root, spec('', ['kubernetes-example.lab.test']), key, {
      notAfter: new Date(Date.now() + 5 * 365 * 86400_000),
    });
    const w = await judgeChain('s', 'kubernetes-example.lab.test', leaf.certPem, (await generateRsaKey()).pem, {
      roots: [root.certPem],
      source: 'the root',
    });
    expect(w.problems.join('\n')).toMatch(/tls\.key does not belong/);
    expect(w.problems.join('\n')).toMatch(/valid for 182[56] days, more than the 398/);
  });
});
