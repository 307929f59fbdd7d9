// The ports a component serves, as its own flags and config say (and its defaults when they are
// silent): what the hosts suite expects to find listening, with where each was read.
import type { ComponentFacts } from './facts.ts';

export interface ServedPort {
  proto: 'tcp' | 'udp';
  port: number;
  /** The address it binds, when one is set (0.0.0.0, 127.0.0.1, ::). */
  address?: string;
  /** What the port is for: "client URL", "secure port", "healthz". */
  what: string;
  source: string;
}

function hostPort(s: string, defaultPort: number): { address: string; port: number } | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:]*))(?::(\d+))?$/.exec(s.trim());
  if (!m) return undefined;
  return { address: m[1] ?? m[2] ?? '', port: m[3] ? Number(m[3]) : defaultPort };
}

function urls(c: ComponentFacts, flag: string, what: string, defaults: string): ServedPort[] {
  const list = c.flags.list(flag);
  return (list.length ? list : [defaults]).flatMap((u) => {
    try {
      const url = new URL(u);
      return [
        {
          proto: 'tcp' as const,
          port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
          address: url.hostname.replace(/^\[|\]$/g, ''),
          what,
          source: list.length ? c.source(flag) : `${c.host}: etcd's default ${flag}`,
        },
      ];
    } catch {
      return [];
    }
  });
}

export function servedPorts(c: ComponentFacts): ServedPort[] {
  const secure = (def: number, what = 'secure port') => {
    const port = Number(c.flags.get('secure-port') ?? def);
    return port > 0
      ? [
          {
            proto: 'tcp' as const,
            port,
            ...(c.flags.get('bind-address') ? { address: c.flags.get('bind-address')! } : {}),
            what,
            source: c.flags.has('secure-port') ? c.source('secure-port') : `${c.host}: ${c.kind}'s default --secure-port ${def}`,
          },
        ]
      : [];
  };
  switch (c.kind) {
    case 'etcd':
      return [
        ...urls(c, 'listen-client-urls', 'client URL', 'http://localhost:2379'),
        ...urls(c, 'listen-peer-urls', 'peer URL', 'http://localhost:2380'),
      ];
    case 'kube-apiserver':
      return secure(6443);
    case 'kube-controller-manager':
      return secure(10257);
    case 'kube-scheduler':
      return c.scheduler
        ? [
            {
              proto: 'tcp',
              port: c.scheduler.securePort,
              address: c.scheduler.bindAddress,
              what: 'secure port',
              source: c.flags.has('secure-port') ? c.source('secure-port') : `${c.host}: kube-scheduler's default --secure-port 10259`,
            },
          ]
        : secure(10259);
    case 'kubelet': {
      const k = c.kubelet;
      if (!k) return [];
      const src = (field: string) =>
        k.source[field] === 'default' || !k.source[field]
          ? `${c.host}: kubelet's default ${field}`
          : `${c.host}: kubelet ${field} (${k.source[field]})`;
      return [
        { proto: 'tcp', port: k.port, address: k.address, what: "kubelet's API", source: src('port') },
        ...(k.healthzPort > 0
          ? [{ proto: 'tcp' as const, port: k.healthzPort, address: k.healthzBindAddress, what: 'healthz', source: src('healthzPort') }]
          : []),
      ];
    }
    case 'kube-proxy': {
      const hp = c.kubeProxy ? hostPort(c.kubeProxy.healthzBindAddress, 10256) : { address: '0.0.0.0', port: 10256 };
      return hp && hp.port > 0
        ? [
            {
              proto: 'tcp',
              port: hp.port,
              address: hp.address,
              what: 'healthz',
              source: c.kubeProxy?.configFile
                ? `${c.host}:${c.kubeProxy.configFile} healthzBindAddress`
                : `${c.host}: kube-proxy's default healthz 0.0.0.0:10256`,
            },
          ]
        : [];
    }
    case 'coredns': {
      const cf = c.corefile;
      if (!cf) return [];
      const src = `${c.host}:${cf.path}`;
      const dns = [...new Set(cf.value.servers.flatMap((s) => s.addresses.filter((a) => a.transport === 'dns').map((a) => a.port)))];
      return dns.flatMap((port) => [
        { proto: 'tcp' as const, port, what: 'DNS', source: `${src} server block` },
        { proto: 'udp' as const, port, what: 'DNS', source: `${src} server block` },
      ]);
    }
    case 'flanneld': {
      const o = c.flannel;
      return o && o.healthzPort > 0
        ? [{ proto: 'tcp', port: o.healthzPort, address: o.healthzIP, what: 'healthz', source: c.source('healthz-port') }]
        : [];
    }
    default:
      return [];
  }
}
