// ~/.ssh/config: the common subset hardway understands, with OpenSSH's first-value-wins rule.
import { describe, expect, it } from 'vitest';
import { homedir } from 'node:os';
import { hostMatches, parseJumpSpec, parseSshConfig, resolveSshHost } from './config.ts';

const CONFIG = `# personal defaults come last in OpenSSH, so specific blocks go first
Host bastion
  HostName 198.51.100.7
  User jump
  Port 2222

Host prod-* !prod-legacy
  User = deploy
  IdentityFile ~/.ssh/prod_%r
  IdentityFile ~/.ssh/second
  ProxyJump bastion
  UserKnownHostsFile ~/.ssh/known_hosts_prod

Host prod-master
  HostName 10.0.0.10
  User ignored-because-set-earlier

Match host *.internal
  User matched

Host *
  User fallback
  IdentityAgent SSH_AUTH_SOCK
`;

describe('ssh config', () => {
  const entries = parseSshConfig(CONFIG, () => []);

  it('resolves an alias: first value wins, IdentityFile accumulates, tokens and ~ expand', () => {
    const r = resolveSshHost(entries, 'prod-master');
    expect(r).toMatchObject({
      hostName: '10.0.0.10',
      user: 'deploy',
      proxyJump: ['bastion'],
      userKnownHostsFile: `${homedir()}/.ssh/known_hosts_prod`,
    });
    expect(r.identityFiles).toEqual([`${homedir()}/.ssh/prod_deploy`, `${homedir()}/.ssh/second`]);
    expect(r.port).toBeUndefined();
  });

  it('honours negated patterns and the catch-all; ignores Match blocks', () => {
    expect(resolveSshHost(entries, 'prod-legacy')).toMatchObject({ user: 'fallback', identityFiles: [] });
    expect(resolveSshHost(entries, 'db.internal').user).toBe('fallback');
    expect(resolveSshHost(entries, 'bastion')).toMatchObject({ hostName: '198.51.100.7', user: 'jump', port: 2222 });
    expect(resolveSshHost(entries, 'elsewhere').hostName).toBeUndefined();
  });

  it('Include pulls other files in place', () => {
    const e = parseSshConfig('Include extra/*.conf\nHost a\n  User first\n', (p) =>
      p === 'extra/*.conf' ? ['Host a\n  User included\n  Port 2022\n'] : [],
    );
    expect(resolveSshHost(e, 'a')).toMatchObject({ user: 'included', port: 2022 });
  });

  it('ProxyJump none, host patterns and jump specs', () => {
    expect(
      resolveSshHost(
        parseSshConfig('Host x\n ProxyJump none\n', () => []),
        'x',
      ).proxyJump,
    ).toEqual([]);
    expect(hostMatches(['*.example.org', '!bad.example.org'], 'ok.example.org')).toBe(true);
    expect(hostMatches(['*.example.org', '!bad.example.org'], 'bad.example.org')).toBe(false);
    expect(hostMatches(['node-?'], 'node-1')).toBe(true);
    expect(parseJumpSpec('ops@gw:2200')).toEqual({ user: 'ops', host: 'gw', port: 2200 });
    expect(parseJumpSpec('ssh://[2001:db8::1]:22')).toEqual({ host: '2001:db8::1', port: 22 });
    expect(parseJumpSpec('gw')).toEqual({ host: 'gw' });
  });
});
