// The seed layout must render exactly what the renderer rendered before layouts existed: every
// file of fixtures/lab/cluster.yaml's rendering, by path, mode and content hash (certificates and
// keys by path and mode only, kubeconfigs with their embedded data masked: both are random).
// Regenerate the golden file only for an intended change: HARDWAY_UPDATE_GOLDEN=1.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCluster } from '../../model/load.ts';
import { render } from '../../render/render.ts';

const GOLDEN = join(import.meta.dirname, 'seed-rendering.golden.json');

function fingerprint(path: string, content: string): string {
  if (path.endsWith('.pem')) return 'pem';
  const masked = content.replace(/^(\s*(?:certificate-authority-data|client-certificate-data|client-key-data): )\S+$/gm, '$1<data>');
  return createHash('sha256').update(masked).digest('hex');
}

/** A VPS-style model like the seed's (docs/cluster-model.md): node-1 registers as w40k.net, node-2 runs OpenRC. */
const VPS = `
name: w40k
flannel: { backend: vxlan, vni: 100 }
dns: { upstreams: [1.1.1.1, 8.8.8.8] }
kubelet: { systemReserved: { cpu: 200m, memory: 600Mi } }
masters:
  - { host: master, address: 178.79.148.185, internalAddress: 192.168.153.60 }
workers:
  - { host: node-1, nodeName: w40k.net, address: 178.79.168.130, internalAddress: 192.168.164.230 }
  - { host: node-2, address: 178.79.160.12, internalAddress: 192.168.170.12, init: openrc }
`;

const MODELS = {
  // The lab's model as it was when the golden file was made: every host on systemd (its node-2
  // runs OpenRC since; the VPS model below renders an OpenRC host).
  lab: () => {
    const text = readFileSync('fixtures/lab/cluster.yaml', 'utf8');
    const systemdOnly = text.replace(/^ {4}init: openrc.*\n/m, '');
    expect(systemdOnly).not.toBe(text);
    return parseCluster(systemdOnly, 'fixtures/lab/cluster.yaml');
  },
  vps: () => parseCluster(VPS, 'vps.yaml'),
};

describe('the seed layout', () => {
  it('renders the lab and a VPS model as before layouts existed (paths, order, modes, contents)', async () => {
    const got: Record<string, Record<string, string[]>> = {};
    for (const [name, model] of Object.entries(MODELS)) {
      const r = await render(model(), { token: 'golden-token' });
      // An ordered list per host: file order is part of the rendering (the installer copies in it).
      got[name] = Object.fromEntries(
        [...r.hosts].map(([host, files]) => [host, files.map((f) => `${f.path} ${f.mode.toString(8)} ${fingerprint(f.path, f.content)}`)]),
      );
    }
    if (process.env.HARDWAY_UPDATE_GOLDEN) writeFileSync(GOLDEN, `${JSON.stringify(got, null, 2)}\n`);
    expect(got).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
  });
});
