import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { couldBeAppToken, tokenFormatOf } from '../../src/ghes/token-format';
import { newLegacyToken, newToken, newUserToken } from '../../emulator/tokens';
import { parseVersion, type GhesVersion } from '../../emulator/versions';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const base62 = (n: number) =>
  fc.string({ unit: fc.constantFrom(...BASE62), minLength: n, maxLength: n });
const hex = fc.string({
  unit: fc.constantFrom(...'0123456789abcdef'),
  minLength: 40,
  maxLength: 40,
});
const version = (v: string) => parseVersion(v) as GhesVersion;

describe('tokenFormatOf', () => {
  it.each([
    ['gho_', 'oauth'],
    ['ghu_', 'user-to-server'],
    ['ghp_', 'personal'],
    ['ghs_', 'installation'],
    ['ghr_', 'refresh'],
  ] as const)('%s + 36 base62 is %s', (prefix, format) => {
    fc.assert(fc.property(base62(36), (body) => tokenFormatOf(prefix + body) === format));
  });

  it('40 lower-case hex is the legacy format; github_pat_ + 82 is a fine-grained PAT', () => {
    fc.assert(fc.property(hex, (t) => tokenFormatOf(t) === 'legacy-hex'));
    expect(tokenFormatOf(`github_pat_11ABCDEFG0${'a'.repeat(12)}_${'B'.repeat(59)}`)).toBe(
      'fine-grained-personal',
    );
  });

  it.each([
    ['one character short', `gho_${'A'.repeat(35)}`],
    ['one character long', `gho_${'A'.repeat(37)}`],
    ['an underscore in the body', `gho_${'A'.repeat(35)}_`],
    ['a dash in the body', `gho_${'A'.repeat(35)}-`],
    ['an upper-case prefix', `GHO_${'A'.repeat(36)}`],
    ['an unknown prefix', `ghx_${'A'.repeat(36)}`],
    ['upper-case hex', 'E72E16C7E42F292C6912E7710C838347AE178B4A'],
    ['39 hex', 'e72e16c7e42f292c6912e7710c838347ae178b4'],
    ['41 hex', 'e72e16c7e42f292c6912e7710c838347ae178b4aa'],
    ['a v1. installation token', 'v1.e72e16c7e42f292c6912e7710c838347ae178b4'],
    ['whitespace around', ` gho_${'A'.repeat(36)}`],
    ['a short fine-grained PAT', `github_pat_${'A'.repeat(81)}`],
    ['empty', ''],
  ])('has no format with %s', (_name, token) => {
    expect(tokenFormatOf(token)).toBeUndefined();
  });

  it('any change of length of a valid token loses the format', () => {
    fc.assert(
      fc.property(base62(36), fc.integer({ min: 0, max: 60 }), (body, len) => {
        fc.pre(len !== 36);
        const token = `gho_${(body + body).slice(0, len)}`;
        return tokenFormatOf(token) === undefined;
      }),
    );
  });
});

describe('couldBeAppToken', () => {
  it('an OAuth app checks gho_ and legacy hex; a GitHub App ghu_ and legacy hex', () => {
    const gho = newToken('gho_');
    const ghu = newToken('ghu_');
    const legacy = newLegacyToken();
    expect(couldBeAppToken(gho, 'oauth_app')).toBe(true);
    expect(couldBeAppToken(legacy, 'oauth_app')).toBe(true);
    expect(couldBeAppToken(ghu, 'oauth_app')).toBe(false);
    expect(couldBeAppToken(ghu, 'github_app')).toBe(true);
    expect(couldBeAppToken(legacy, 'github_app')).toBe(true);
    expect(couldBeAppToken(gho, 'github_app')).toBe(false);
  });

  it('PATs, installation and refresh tokens are never an app user token', () => {
    for (const prefix of ['ghp_', 'ghs_', 'ghr_'] as const) {
      const token = prefix + newToken('gho_').slice(4);
      expect(couldBeAppToken(token, 'oauth_app')).toBe(false);
      expect(couldBeAppToken(token, 'github_app')).toBe(false);
    }
  });

  it('accepts every token the emulator mints, on every release, for its own app kind', () => {
    for (const v of ['2.18', '2.22', '3.1', '3.2', '3.12', '3.22']) {
      for (const kind of ['oauth_app', 'github_app'] as const) {
        for (let i = 0; i < 20; i++)
          expect(couldBeAppToken(newUserToken(kind, version(v)), kind), `${v} ${kind}`).toBe(true);
      }
    }
  });

  it('refuses arbitrary strings almost always (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const format = tokenFormatOf(s);
        return format === undefined || /^(gh[oupsr]_|github_pat_|[0-9a-f]{40}$)/.test(s);
      }),
    );
  });
});

describe('the emulator mints what each release issued', () => {
  it('40 hex before 3.2, gho_/ghu_ from 3.2', () => {
    expect(newUserToken('oauth_app', version('3.1'))).toMatch(/^[0-9a-f]{40}$/);
    expect(newUserToken('github_app', version('2.18'))).toMatch(/^[0-9a-f]{40}$/);
    expect(newUserToken('oauth_app', version('3.2'))).toMatch(/^gho_[A-Za-z0-9]{36}$/);
    expect(newUserToken('github_app', version('3.22'))).toMatch(/^ghu_[A-Za-z0-9]{36}$/);
  });
});
