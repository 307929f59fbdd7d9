import { describe, expect, it } from 'vitest';
import { cidrContains, cidrsOverlap, isIpAddress, networkAddress, networkOf, nthAddress, parseCidr, subnetCount } from './net.ts';

const cidr = (text: string) => {
  const c = parseCidr(text);
  if (!c) throw new Error(`test setup: ${text} should parse`);
  return c;
};

describe('isIpAddress', () => {
  it('accepts IPv4 and IPv6 and rejects everything else', () => {
    expect(isIpAddress('10.240.0.10')).toBe(true);
    expect(isIpAddress('fd00::1')).toBe(true);
    expect(isIpAddress('10.0.0.300')).toBe(false);
    expect(isIpAddress('10.0.0')).toBe(false);
    expect(isIpAddress('master')).toBe(false);
    expect(isIpAddress('10.0.0.0/24')).toBe(false);
  });
});

describe('parseCidr', () => {
  it('parses an IPv4 CIDR into family, numeric base, prefix and the original text', () => {
    expect(parseCidr('10.32.0.0/24')).toEqual({ family: 4, base: (10n << 24n) | (32n << 16n), prefix: 24, text: '10.32.0.0/24' });
  });

  it('masks host bits off the base (10.32.0.5/24 is the 10.32.0.0/24 network)', () => {
    const c = cidr('10.32.0.5/24');
    expect(c.base).toBe(cidr('10.32.0.0/24').base);
    expect(networkAddress(c)).toBe('10.32.0.0');
    expect(c.text).toBe('10.32.0.5/24');
  });

  it('parses IPv6, including the :: shorthand and /0 and /128', () => {
    const c = cidr('fd00:10:96::/112');
    expect(c.family).toBe(6);
    expect(c.prefix).toBe(112);
    expect(c.base).toBe((0xfd00n << 112n) | (0x10n << 96n) | (0x96n << 80n));
    expect(cidr('::/0').base).toBe(0n);
    expect(cidr('::1/128').base).toBe(1n);
  });

  it('reads an IPv6 address ending in a dotted quad (::ffff:10.0.0.1)', () => {
    const c = cidr('::ffff:10.0.0.0/120');
    expect(c.base).toBe((0xffffn << 32n) | (10n << 24n));
    expect(cidrContains(c, '::ffff:10.0.0.77')).toBe(true);
    expect(cidrContains(c, '::ffff:10.0.1.77')).toBe(false);
  });

  it.each([
    ['10.0.0.300/8', 'octet over 255'],
    ['10.0.0.0/33', 'IPv4 prefix over 32'],
    ['fd00::/129', 'IPv6 prefix over 128'],
    ['10.0.0.0', 'no prefix'],
    ['10.0.0.0/', 'empty prefix'],
    ['10.0.0.0/-1', 'negative prefix'],
    ['10.0.0.0/1234', 'four-digit prefix'],
    ['abc/8', 'not an address'],
    ['10.0.0.0/8 ', 'trailing space'],
    [' 10.0.0.0/8', 'leading space'],
    ['10.0.0.0/8/8', 'two slashes'],
    ['', 'empty'],
  ])('rejects %s (%s)', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('cidrsOverlap', () => {
  it('is true for nested and identical ranges, in both orders', () => {
    expect(cidrsOverlap(cidr('10.0.0.0/8'), cidr('10.32.0.0/24'))).toBe(true);
    expect(cidrsOverlap(cidr('10.32.0.0/24'), cidr('10.0.0.0/8'))).toBe(true);
    expect(cidrsOverlap(cidr('10.200.0.0/16'), cidr('10.200.0.0/16'))).toBe(true);
  });

  it('is false for disjoint ranges, including adjacent ones', () => {
    expect(cidrsOverlap(cidr('10.200.0.0/16'), cidr('10.32.0.0/24'))).toBe(false);
    expect(cidrsOverlap(cidr('10.32.0.0/24'), cidr('10.32.1.0/24'))).toBe(false);
    expect(cidrsOverlap(cidr('10.32.1.0/24'), cidr('10.32.0.0/24'))).toBe(false);
  });

  it('works for IPv6 and never mixes families', () => {
    expect(cidrsOverlap(cidr('fd00::/48'), cidr('fd00:0:0:1::/64'))).toBe(true);
    expect(cidrsOverlap(cidr('fd00::/64'), cidr('fd00:0:0:1::/64'))).toBe(false);
    // ::/0 covers every IPv6 address numerically equal to 10.0.0.0, but families differ.
    expect(cidrsOverlap(cidr('::/0'), cidr('10.0.0.0/8'))).toBe(false);
  });
});

describe('cidrContains', () => {
  const svc = cidr('10.32.0.0/24');
  it('includes the first and last address and excludes the neighbours', () => {
    expect(cidrContains(svc, '10.32.0.0')).toBe(true);
    expect(cidrContains(svc, '10.32.0.255')).toBe(true);
    expect(cidrContains(svc, '10.31.255.255')).toBe(false);
    expect(cidrContains(svc, '10.32.1.0')).toBe(false);
  });

  it('is false for non-addresses and for the other family', () => {
    expect(cidrContains(svc, '10.32.0.300')).toBe(false);
    expect(cidrContains(svc, 'master')).toBe(false);
    expect(cidrContains(cidr('::/0'), '10.32.0.1')).toBe(false);
    expect(cidrContains(cidr('0.0.0.0/0'), 'fd00::1')).toBe(false);
  });

  it('works for IPv6', () => {
    const c = cidr('fd00:10:96::/112');
    expect(cidrContains(c, 'fd00:10:96::ffff')).toBe(true);
    expect(cidrContains(c, 'fd00:10:96::1:0')).toBe(false);
  });
});

describe('nthAddress', () => {
  it('gives the kubernetes service address of a service CIDR (n=1)', () => {
    expect(nthAddress(cidr('10.32.0.0/24'), 1)).toBe('10.32.0.1');
    expect(nthAddress(cidr('10.96.0.0/12'), 1)).toBe('10.96.0.1');
  });

  it('counts from the network address, carrying across octets', () => {
    expect(nthAddress(cidr('10.32.0.0/24'), 0)).toBe('10.32.0.0');
    expect(nthAddress(cidr('10.32.0.0/24'), 255)).toBe('10.32.0.255');
    expect(nthAddress(cidr('10.200.0.0/16'), 256)).toBe('10.200.1.0');
    expect(nthAddress(cidr('10.32.0.77/24'), 1)).toBe('10.32.0.1');
  });

  it('writes IPv6 results in RFC 5952 form (lower case, longest zero run compressed)', () => {
    expect(nthAddress(cidr('fd00:10:96::/112'), 1)).toBe('fd00:10:96::1');
    expect(nthAddress(cidr('fd00:10:96::/112'), 0xabcd)).toBe('fd00:10:96::abcd');
    expect(nthAddress(cidr('::/0'), 0)).toBe('::');
    expect(nthAddress(cidr('::/0'), 1)).toBe('::1');
    expect(nthAddress(cidr('2001:db8::/32'), 0)).toBe('2001:db8::');
    // The longest run is compressed, not the first one (Go and x509 tools print it so).
    expect(nthAddress(cidr('2001:0:0:1::/64'), 1)).toBe('2001:0:0:1::1');
    // Equal runs: the first one.
    expect(nthAddress(cidr('2001:db8:0:0:1::/80'), 1)).toBe('2001:db8::1:0:0:1');
    // A single zero group is never compressed.
    expect(nthAddress(cidr('2001:db8:0:1:1:1:1:0/128'), 1)).toBe('2001:db8:0:1:1:1:1:1');
  });

  it('round-trips: the address it returns parses back to the same number', () => {
    for (const [text, n] of [
      ['fd00:10:96::/112', 1],
      ['2001:0:0:1::/64', 5],
      ['10.200.0.0/16', 513],
    ] as const) {
      const c = cidr(text);
      const ip = nthAddress(c, n);
      expect(cidr(`${ip}/${c.family === 4 ? 32 : 128}`).base).toBe(c.base + BigInt(n));
    }
  });
});

describe('subnetCount', () => {
  it('counts the worker subnets flannel can hand out', () => {
    expect(subnetCount(cidr('10.200.0.0/16'), 24)).toBe(256n);
    expect(subnetCount(cidr('10.200.0.0/16'), 16)).toBe(1n);
    expect(subnetCount(cidr('10.200.0.0/24'), 26)).toBe(4n);
    expect(subnetCount(cidr('fd00::/48'), 64)).toBe(65536n);
  });

  it('is 0 when the subnet is larger than the range', () => {
    expect(subnetCount(cidr('10.200.0.0/24'), 16)).toBe(0n);
  });
});

describe('networkOf', () => {
  it('clears the host bits of any prefix length, not only the last octet', () => {
    expect(networkOf('10.200.65.1/24')).toBe('10.200.65.0/24');
    expect(networkOf('10.200.65.1/18')).toBe('10.200.64.0/18');
    expect(networkOf('10.200.65.130/25')).toBe('10.200.65.128/25');
    expect(networkOf('10.200.65.7/30')).toBe('10.200.65.4/30');
    expect(networkOf('10.200.0.0/16')).toBe('10.200.0.0/16');
    expect(networkOf('10.1.2.3/32')).toBe('10.1.2.3/32');
    expect(networkOf('10.1.2.3/0')).toBe('0.0.0.0/0');
  });

  it('works for IPv6, in the compressed form routes print', () => {
    expect(networkOf('fd00:10:200:1::1/64')).toBe('fd00:10:200:1::/64');
    expect(networkOf('fd00:10:200:1:ffff::1/56')).toBe('fd00:10:200::/56');
  });

  it('is undefined for text that is not a CIDR', () => {
    expect(networkOf('10.200.65.1')).toBeUndefined();
    expect(networkOf('10.200.65.1/33')).toBeUndefined();
    expect(networkOf('flannel')).toBeUndefined();
  });
});
