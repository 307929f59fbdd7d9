import { describe, expect, it } from 'vitest';
import { loadCluster } from '../../model/load.ts';
import { parseStatus, provisionScript, vagrantfile } from './vagrantfile.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST hardway-test';

describe('Vagrantfile for the lab model', () => {
  const text = vagrantfile(cluster, {
    box: 'debian/trixie64',
    provider: 'libvirt',
    memoryMiB: 2048,
    cpus: 2,
    authorizedKey: KEY,
    edgeAddress: '10.240.0.2',
  });

  it("defines one VM per host plus the edge, at the model's addresses", () => {
    for (const [name, ip] of [
      ['master', '10.240.0.10'],
      ['node-1', '10.240.0.21'],
      ['node-2', '10.240.0.22'],
      ['edge', '10.240.0.2'],
    ]) {
      expect(text).toContain(
        `config.vm.define '${name}' do |n|\n    n.vm.hostname = '${name}'\n    n.vm.network "private_network", ip: '${ip}'`,
      );
    }
    expect(text.match(/config\.vm\.define/g)).toHaveLength(4);
    expect(text).toContain("config.vm.box = 'debian/trixie64'");
    expect(text).toContain("config.vm.provider 'libvirt' do |p|");
  });

  it("provisions the node image's packages and root's key for the installer", () => {
    const script = provisionScript(KEY);
    expect(script).toMatch(/apt-get install .*containerd .*etcd-server/);
    expect(script).toContain(`echo '${KEY}' >> /root/.ssh/authorized_keys`);
    expect(text).toContain(script.split('\n')[3]!);
  });
});

describe('vagrant status', () => {
  it('reads the machine-readable states', () => {
    const out =
      '1700000000,master,metadata,provider,libvirt\n1700000000,master,state,running\n1700000000,node-1,state,shutoff\n1700000000,,ui,info,done';
    expect(parseStatus(out)).toEqual([
      { name: 'master', state: 'running' },
      { name: 'node-1', state: 'shutoff' },
    ]);
  });
});
