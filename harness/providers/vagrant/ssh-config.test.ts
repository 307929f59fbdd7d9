import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../../cli/errors.ts';
import { checkSshConfig, parseSshConfig } from './ssh-config.ts';

// `vagrant ssh-config` of a real run (hardway lab up --provider vagrant, docker provider).
const recorded = readFileSync('fixtures/recorded/vagrant/ssh-config.txt', 'utf8');
const members = [
  { name: 'master', address: '10.242.0.10' },
  { name: 'node-1', address: '10.242.0.21' },
  { name: 'node-2', address: '10.242.0.22' },
  { name: 'edge', address: '10.242.0.2' },
];

describe('vagrant ssh-config', () => {
  it('reads where Vagrant reaches each machine (recorded output)', () => {
    const infos = parseSshConfig(recorded);
    expect(infos.map((i) => [i.host, i.hostName, i.port, i.user])).toEqual([
      ['master', '10.242.0.10', 22, 'root'],
      ['node-1', '10.242.0.21', 22, 'root'],
      ['node-2', '10.242.0.22', 22, 'root'],
      ['edge', '10.242.0.2', 22, 'root'],
    ]);
    expect(infos[0]!.identityFiles).toEqual(['/root/.cache/hardway/labs/vagrant/id_ed25519']);
    expect(infos[0]!.options.stricthostkeychecking).toBe('no');
  });

  it("agrees with the model's addresses", () => {
    expect([...checkSshConfig(members, parseSshConfig(recorded), 'root').keys()]).toEqual(['master', 'node-1', 'node-2', 'edge']);
  });

  it('says in one line when Vagrant reaches a machine elsewhere (its forwarded port on 127.0.0.1)', () => {
    const forwarded = recorded.replace('HostName 10.242.0.21\n  User root\n  Port 22', 'HostName 127.0.0.1\n  User root\n  Port 2202');
    expect(() => checkSshConfig(members, parseSshConfig(forwarded), 'root')).toThrow(UserFacingError);
    expect(() => checkSshConfig(members, parseSshConfig(forwarded), 'root')).toThrow(
      /^node-1: Vagrant reaches it at root@127\.0\.0\.1:2202, the model at root@10\.242\.0\.21:22; fix: /,
    );
  });

  it('names a machine Vagrant does not know', () => {
    expect(() => checkSshConfig([...members, { name: 'node-3', address: '10.242.0.23' }], parseSshConfig(recorded))).toThrow(
      /^node-3: vagrant ssh-config names no such machine/,
    );
  });

  it('reads quoted values and ignores comments', () => {
    const [i] = parseSshConfig('# made by vagrant\nHost "m 1"\n  HostName 10.0.0.1\n  Port 2222\n  IdentityFile "/a b/key"\n');
    expect(i).toMatchObject({ host: 'm 1', hostName: '10.0.0.1', port: 2222, identityFiles: ['/a b/key'] });
  });
});
