// The pinned versions of every cluster binary, and where each comes from: the official release
// (with its published SHA-256) for users with internet access, or a build from source through the
// Go module proxy (this project's machines reach no download site). One place to bump versions.

export interface SourceBuild {
  module: string;
  version: string;
  /** Version for local-path replaces (k8s staging modules), or "-". */
  staging: string;
  ldflags: string;
  packages: string[];
  /** Built file name -> installed name, when they differ. */
  rename?: Record<string, string>;
  cgo?: boolean;
  /** Stand-ins for modules the proxy does not serve: module -> folder under harness/binaries/stubs. */
  stubs?: Record<string, string>;
  /** hardway's own main packages for a module whose commands the proxy does not serve:
   * module path -> folder under harness/binaries (its sources are part of the cache key). */
  entryPoints?: Record<string, string>;
}

export interface ReleaseFile {
  url: string;
  /** URL of the published checksum file (sha256 hex, optionally followed by a file name). */
  sha256Url: string;
  /** For archives: which member to extract; omitted for plain binaries. */
  member?: string;
  installAs: string;
}

export interface Component {
  name: string;
  version: string;
  /** Binaries this component provides (installed names). */
  binaries: string[];
  build: SourceBuild;
  /** Official binary downloads; empty when upstream ships container images only (see `images`). */
  release: ReleaseFile[];
  /** Only the HTTPS edge (cluster.ingress) needs it: built by the edge phase, not for every cluster. */
  edge?: boolean;
  /** Where upstream publishes it when not as binaries: registry images (none reachable here). */
  images?: string[];
  /** Minutes of a cold build on 2 cores (BUILD-NOTES, docs/lab.md): the scheduler starts long ones first. */
  buildMinutes?: number;
}

export const KUBERNETES_VERSION = 'v1.34.4';
/** The HTTPS edge (cluster.ingress): cert-manager and the NGINX-based gateway controller. */
export const CERT_MANAGER_VERSION = 'v1.21.2';
export const NGF_VERSION = 'v1.6.2';
/** Gateway API CRDs (standard channel) that NGINX Gateway Fabric v1.6.2 is built and tested for. */
export const GATEWAY_API_VERSION = 'v1.2.1';
const K8S_MINOR = KUBERNETES_VERSION.split('.')[1]!;
const K8S_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'];

export const COMPONENTS: Component[] = [
  {
    name: 'kubernetes',
    version: KUBERNETES_VERSION,
    binaries: K8S_BINARIES,
    buildMinutes: 6,
    build: {
      module: 'k8s.io/kubernetes',
      version: KUBERNETES_VERSION,
      staging: KUBERNETES_VERSION.replace(/^v1\./, 'v0.'),
      ldflags: `-s -w -X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_MINOR} -X k8s.io/component-base/version.gitTreeState=clean`,
      packages: K8S_BINARIES.map((b) => `k8s.io/kubernetes/cmd/${b}`),
    },
    release: K8S_BINARIES.map((b) => ({
      url: `https://dl.k8s.io/release/${KUBERNETES_VERSION}/bin/linux/amd64/${b}`,
      sha256Url: `https://dl.k8s.io/release/${KUBERNETES_VERSION}/bin/linux/amd64/${b}.sha256`,
      installAs: b,
    })),
  },
  {
    name: 'coredns',
    version: 'v1.14.7',
    binaries: ['coredns'],
    buildMinutes: 2,
    build: {
      module: 'github.com/coredns/coredns',
      version: 'v1.14.7',
      staging: '-',
      ldflags: '-s -w',
      // hardway's main with the plugins the lab uses (harness/binaries/coredns/): upstream's
      // imports every plugin, cloud SDKs included (8 minutes of a cold build on 2 cores).
      packages: ['github.com/coredns/coredns/hardway/coredns'],
      entryPoints: { 'github.com/coredns/coredns/hardway': 'coredns' },
    },
    release: [
      {
        url: 'https://github.com/coredns/coredns/releases/download/v1.14.7/coredns_1.14.7_linux_amd64.tgz',
        sha256Url: 'https://github.com/coredns/coredns/releases/download/v1.14.7/coredns_1.14.7_linux_amd64.tgz.sha256',
        member: 'coredns',
        installAs: 'coredns',
      },
    ],
  },
  {
    name: 'flannel',
    version: 'v0.28.10',
    binaries: ['flanneld'],
    buildMinutes: 1,
    build: {
      module: 'github.com/flannel-io/flannel',
      version: 'v0.28.10',
      staging: '-',
      // The udp backend needs cgo; link statically so the binary runs on any glibc.
      cgo: true,
      ldflags: '-s -w -X github.com/flannel-io/flannel/pkg/version.Version=v0.28.10 -extldflags -static',
      packages: ['github.com/flannel-io/flannel'],
      rename: { flannel: 'flanneld' },
      stubs: { 'github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc': 'tencentcloud-vpc' },
    },
    release: [
      {
        url: 'https://github.com/flannel-io/flannel/releases/download/v0.28.10/flanneld-amd64',
        sha256Url: 'https://github.com/flannel-io/flannel/releases/download/v0.28.10/flanneld-amd64.sha256sum',
        installAs: 'flanneld',
      },
    ],
  },
  {
    // flannel's CNI plugin: released from flannel-io/cni-plugin today; that module is not on the Go
    // proxy, so the source build uses the same plugin from containernetworking/plugins v0.9.1, its
    // home before the move (reads /run/flannel/subnet.env, delegates to bridge + host-local).
    name: 'cni-flannel',
    version: 'v0.9.1',
    binaries: ['flannel'],
    buildMinutes: 0.1,
    build: {
      module: 'github.com/containernetworking/plugins',
      version: 'v0.9.1',
      staging: '-',
      ldflags: '-s -w',
      packages: ['github.com/containernetworking/plugins/plugins/meta/flannel'],
    },
    release: [
      {
        url: 'https://github.com/flannel-io/cni-plugin/releases/download/v1.7.1-flannel2/cni-plugin-flannel-linux-amd64-v1.7.1-flannel2.tgz',
        sha256Url:
          'https://github.com/flannel-io/cni-plugin/releases/download/v1.7.1-flannel2/cni-plugin-flannel-linux-amd64-v1.7.1-flannel2.tgz.sha256',
        member: 'flannel-amd64',
        installAs: 'flannel',
      },
    ],
  },
  {
    // cert-manager's commands are separate modules (cmd/controller, ...) that the Go module proxy
    // does not serve; the root module (controllers, issuers, webhook, injectors) is served. hardway
    // builds its own thin main packages against it (harness/binaries/cert-manager/). Upstream ships
    // no binaries, only images (quay.io), so there is no download alternative for the binaries.
    name: 'cert-manager',
    version: CERT_MANAGER_VERSION,
    binaries: ['cert-manager-controller', 'cert-manager-webhook', 'cert-manager-cainjector', 'cert-manager-acmesolver'],
    edge: true,
    buildMinutes: 7,
    build: {
      module: 'github.com/cert-manager/cert-manager',
      version: CERT_MANAGER_VERSION,
      staging: '-',
      ldflags: `-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=${CERT_MANAGER_VERSION}`,
      packages: ['controller', 'webhook', 'cainjector', 'acmesolver'].map((p) => `github.com/cert-manager/cert-manager/hardway/${p}`),
      rename: {
        controller: 'cert-manager-controller',
        webhook: 'cert-manager-webhook',
        cainjector: 'cert-manager-cainjector',
        acmesolver: 'cert-manager-acmesolver',
      },
      entryPoints: { 'github.com/cert-manager/cert-manager/hardway': 'cert-manager' },
    },
    release: [],
    images: ['controller', 'webhook', 'cainjector', 'acmesolver'].map((p) => `quay.io/jetstack/cert-manager-${p}:${CERT_MANAGER_VERSION}`),
  },
  {
    // NGINX Gateway Fabric, F5 NGINX's maintained NGINX-based controller (Gateway API). NGINX's
    // kubernetes-ingress, which the seed installs, cannot be built for Kubernetes 1.34 here (see
    // docs/lab.md, "The HTTPS edge"). Its repository moved from nginxinc to nginx: the proxy serves
    // v1.6.2 under the old path while its go.mod declares the new one (go-build.sh handles that).
    // Built without a telemetry endpoint (NGF then only logs its report) and run with
    // --product-telemetry-disable. Upstream ships images only (ghcr.io).
    name: 'nginx-gateway-fabric',
    version: NGF_VERSION,
    binaries: ['nginx-gateway'],
    edge: true,
    buildMinutes: 2,
    build: {
      module: 'github.com/nginxinc/nginx-gateway-fabric',
      version: NGF_VERSION,
      staging: '-',
      ldflags: `-s -w -X main.version=${NGF_VERSION.slice(1)} -X main.telemetryReportPeriod=24h -X main.telemetryEndpoint= -X main.telemetryEndpointInsecure=false`,
      packages: ['github.com/nginx/nginx-gateway-fabric/cmd/gateway'],
      rename: { gateway: 'nginx-gateway' },
    },
    release: [],
    images: [
      `ghcr.io/nginx/nginx-gateway-fabric:${NGF_VERSION.slice(1)}`,
      `ghcr.io/nginx/nginx-gateway-fabric/nginx:${NGF_VERSION.slice(1)}`,
    ],
  },
];
