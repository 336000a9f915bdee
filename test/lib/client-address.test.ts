import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddressOf, ipKey } from '../../src/lib/client-address';

const xff = (value: string | undefined, connecting?: string) =>
  clientAddressOf('x-forwarded-for', value, connecting);

describe('clientAddressOf', () => {
  it('takes the last hop: the one the caller’s proxy appended', () => {
    expect(xff('203.0.113.9')).toEqual({ kind: 'address', key: '203.0.113.9' });
    expect(xff('10.0.0.1, 10.0.0.2,203.0.113.9 ')).toEqual({ kind: 'address', key: '203.0.113.9' });
    expect(xff('evil, 203.0.113.9')).toEqual({ kind: 'address', key: '203.0.113.9' });
  });

  it('skips a last hop equal to CF-Connecting-IP (Cloudflare appends the proxy itself)', () => {
    expect(xff('203.0.113.9, 198.51.100.1', '198.51.100.1')).toEqual({
      kind: 'address',
      key: '203.0.113.9',
    });
    expect(xff('198.51.100.1', '198.51.100.1')).toEqual({ kind: 'absent' });
    expect(xff('203.0.113.9', '198.51.100.1')).toEqual({ kind: 'address', key: '203.0.113.9' });
  });

  it('is absent without a value, and one shared bucket for anything that is no address', () => {
    expect(xff(undefined)).toEqual({ kind: 'absent' });
    expect(xff('  ')).toEqual({ kind: 'absent' });
    expect(xff(',,')).toEqual({ kind: 'absent' });
    for (const v of ['unknown', '1.2.3', '999.1.1.1', 'gho_abc', '::1::2', 'x'.repeat(5000)])
      expect(xff(v)).toEqual({ kind: 'unparseable', key: 'unparseable' });
  });

  it('reads RFC 7239 Forwarded for= parameters', () => {
    expect(
      clientAddressOf('forwarded', 'for=10.0.0.1, for="[2001:db8::1]:443";proto=https', undefined),
    ).toEqual({
      kind: 'address',
      key: '2001:db8:0:0::/64',
    });
    expect(clientAddressOf('forwarded', 'by=10.0.0.1;for=192.0.2.60', undefined)).toEqual({
      kind: 'address',
      key: '192.0.2.60',
    });
  });

  it('any prefix the client writes leaves the key unchanged (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }), (prefix) => {
        const value = [...prefix.map((p) => p.replace(/,/g, '')), '203.0.113.9'].join(', ');
        const got = xff(value);
        return got.kind === 'address' && got.key === '203.0.113.9';
      }),
    );
  });
});

describe('ipKey', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['192.0.2.1:8080', '192.0.2.1'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:DB8:0:0:FFFF::1', '2001:db8:0:0::/64'],
    ['[2001:db8:1:2::5]:443', '2001:db8:1:2::/64'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::1', '0:0:0:0::/64'],
  ])('%s → %s', (input, key) => {
    expect(ipKey(input)).toBe(key);
  });

  it.each([
    '',
    'localhost',
    '256.1.1.1',
    '1.2.3.4.5',
    '01.2.3.4',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':::',
  ])('refuses %j', (input) => {
    expect(ipKey(input)).toBeUndefined();
  });

  it('every address of one /64 gets one key (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }),
        (a, tail) => {
          // ::ffff:a.b.c.d is keyed as the IPv4 address it carries.
          fc.pre(!a.slice(0, 5).every((g) => g === 0));
          const b = [...a.slice(0, 4), ...tail];
          const text = (g: number[]) => g.map((x) => x.toString(16)).join(':');
          return ipKey(text(a)) === ipKey(text(b));
        },
      ),
    );
  });
});
