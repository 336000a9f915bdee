/**
 * URLs the gateway calls or publishes (src/config/urls.ts): GHES_BASE_URL, CALLER_JWKS_URL
 * and PUBLIC_URL are https, or http only on a loopback host (localhost, 127.0.0.0/8, [::1]), and
 * never carry a user name or password. The tricks a typo or an attacker-suggested config uses to
 * look local (`localhost.evil.com`, `127.0.0.1.nip.io`, userinfo, case, other IPv6 forms) are
 * refused; the error names the var and never quotes the URL.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse';
import { isLoopbackHost } from '../../src/config/urls';
import { withOverrides } from '../helpers/caller';
import { TEST_PUBLIC_EC_JWK } from './fixtures';

const SECRET = 'client-secret-value-0123456789abcdef';
const PEPPER = 'cache-pepper-value-0123456789abcdef0123456789abcdef';
const JWKS = {
  keys: [TEST_PUBLIC_EC_JWK],
};

function baseEnv(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const env: Record<string, unknown> = {
    GHES_BASE_URL: 'https://ghes.example.com/api/v3',
    APPS: JSON.stringify([
      {
        name: 'octo',
        client_id: 'Iv1.0123456789abcdef',
        kind: 'github_app',
        client_secret_binding: 'OCTO_SECRET',
      },
    ]),
    OCTO_SECRET: SECRET,
    CALLER_ISSUER: 'https://callers.example.com',
    CALLER_AUDIENCE: 'ghes-token-gateway',
    CALLER_JWKS: JSON.stringify(JWKS),
    CALLER_POLICY: JSON.stringify({ 'svc-a': { apps: ['*'], operations: ['check'] } }),
    CACHE_PEPPER: PEPPER,
    PUBLIC_URL: 'https://gateway.example.com',
  };
  return withOverrides(env, overrides);
}

/** The env with `url` in `name` (a JWKS URL replaces the inline key set). */
function withUrl(name: UrlVar, url: string): Record<string, unknown> {
  if (name === 'GHES_BASE_URL') return baseEnv({ GHES_BASE_URL: `${url}/api/v3` });
  if (name === 'CALLER_JWKS_URL')
    return baseEnv({ CALLER_JWKS: undefined, CALLER_JWKS_URL: `${url}/jwks.json` });
  return baseEnv({ PUBLIC_URL: url });
}

const URL_VARS = ['GHES_BASE_URL', 'CALLER_JWKS_URL', 'PUBLIC_URL'] as const;
type UrlVar = (typeof URL_VARS)[number];

function errorsFor(name: UrlVar, url: string): string[] {
  const result = parseConfig(withUrl(name, url));
  return result.ok ? [] : result.error;
}

const REFUSED: [string, string][] = [
  ['plain http to a remote host', 'http://ghes.example.com'],
  ['an upper-case HTTP scheme', 'HTTP://ghes.example.com'],
  ['a mixed-case scheme', 'hTtP://ghes.example.com'],
  ['http without slashes', 'http:ghes.example.com'],
  ['leading whitespace before http', ' http://ghes.example.com'],
  ['a name that starts with localhost', 'http://localhost.evil.com'],
  ['a name that ends in localhost', 'http://evil-localhost'],
  ['a subdomain of localhost', 'http://api.localhost'],
  ['localhost with a trailing dot', 'http://localhost.'],
  ['a wildcard-DNS name for 127.0.0.1', 'http://127.0.0.1.nip.io'],
  ['an encoded dot after 127.0.0.1', 'http://127.0.0.1%2eevil.example'],
  ['userinfo that says localhost', 'http://localhost@evil.example'],
  ['userinfo with a port that says 127.0.0.1', 'http://127.0.0.1:8788@evil.example'],
  ['a fragment that mentions loopback', 'http://evil.example#@127.0.0.1'],
  ['a query that mentions loopback', 'http://evil.example?@localhost'],
  ['the unspecified IPv4 address', 'http://0.0.0.0:8788'],
  ['a private address', 'http://10.0.0.1'],
  ['the metadata address', 'http://169.254.169.254'],
  ['the unspecified IPv6 address', 'http://[::]'],
  ['an IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]'],
  ['a link-local IPv6 address', 'http://[fe80::1]'],
  ['another scheme', 'ftp://ghes.example.com'],
  ['a file URL', 'file:///etc/passwd'],
  ['no URL at all', 'not a url'],
];

describe.each(URL_VARS)('%s', (name) => {
  it.each(REFUSED)('refuses %s', (_why, url) => {
    const errors = errorsFor(name, url);
    expect(
      errors.some((e) => e.startsWith(`${name}:`)),
      errors.join('\n'),
    ).toBe(true);
    // Named, not quoted: the URL may carry a credential.
    for (const e of errors) expect(e).not.toContain(url.trim());
  });

  it.each([
    ['https to any host', 'https://ghes.example.com'],
    ['an upper-case HTTPS scheme', 'HTTPS://ghes.example.com'],
    ['http to localhost', 'http://localhost:8788'],
    ['http to LOCALHOST (host names are case-insensitive)', 'HTTP://LOCALHOST:8788'],
    ['http to 127.0.0.1', 'http://127.0.0.1:8788'],
    ['http anywhere in 127.0.0.0/8', 'http://127.255.0.9'],
    ['http to 127.0.0.1 written short', 'http://127.1:8788'],
    ['http to 127.0.0.1 written in hex', 'http://0x7f000001'],
    ['http to [::1]', 'http://[::1]:8788'],
    ['http to [::1] written long', 'http://[0:0:0:0:0:0:0:1]'],
  ])('accepts %s', (_why, url) => {
    expect(errorsFor(name, url)).toEqual([]);
  });

  it('refuses a user name or password even over https, without quoting them', () => {
    const errors = errorsFor(name, 'https://deploy:hunter2-password@ghes.example.com');
    expect(errors).toEqual([`${name}: must not carry a user name or password`]);
    expect(errors.join('\n')).not.toContain('hunter2-password');
  });

  it('property: http:// to any host that is not loopback is refused, whatever the case, port or userinfo', () => {
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
    const lookalike = fc
      .tuple(
        fc.constantFrom('localhost', '127.0.0.1', '127.1', '[::1]', '0x7f000001', 'loopback'),
        fc.array(label, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
      )
      .map(([local, labels, before]) =>
        before
          ? `${local.replace(/[[\]]/g, '')}.${labels.join('.')}`
          : `${labels.join('.')}.${local.replace(/[[\]]/g, '')}`,
      );
    const remoteV4 = fc
      .tuple(
        fc.integer({ min: 0, max: 255 }).filter((o) => o !== 127),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
      )
      .map((o) => o.join('.'));
    const remoteV6 = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
      .filter((g) => g.some((x, i) => x !== (i === 7 ? 1 : 0)))
      .map((g) => `[${g.map((x) => x.toString(16)).join(':')}]`);
    const host = fc.oneof(
      lookalike,
      remoteV4,
      remoteV6,
      label.map((l) => `${l}.example`),
    );
    const scheme = fc
      .array(fc.boolean(), { minLength: 4, maxLength: 4 })
      .map((up) => [...'http'].map((ch, i) => (up[i] ? ch.toUpperCase() : ch)).join(''));
    const userinfo = fc.option(
      fc.constantFrom('localhost@', '127.0.0.1@', 'user:pw@', '[::1]@', 'localhost:80@'),
      { nil: '' },
    );
    const port = fc.option(
      fc.integer({ min: 1, max: 65_535 }).map((p) => `:${p}`),
      { nil: '' },
    );
    fc.assert(
      fc.property(scheme, userinfo, host, port, (s, u, h, p) => {
        const url = `${s}://${u}${h}${p}`;
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          return; // not a URL: refused by every var anyway (covered above)
        }
        // The oracle is independent of the code under test: the host, as fetch would resolve it.
        const loopback =
          parsed.hostname === 'localhost' ||
          parsed.hostname === '[::1]' ||
          /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
        const errors = errorsFor(name, url);
        if (loopback && u === '') expect(errors).toEqual([]);
        else expect(errors.some((e) => e.startsWith(`${name}:`))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.255.255.255', true],
    ['[::1]', true],
    ['127.0.0.256', false],
    ['127.0.0', false],
    ['128.0.0.1', false],
    ['localhost.evil.com', false],
    ['127.0.0.1.nip.io', false],
    ['::1', false],
    ['[::ffff:7f00:1]', false],
    ['', false],
  ])('%j → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe('other identity URLs', () => {
  it('the Cloudflare Access team domain (its certs URL) is https only, loopback included', () => {
    const access = {
      ACCESS_AUD: 'a1b2c3',
      ACCESS_SUBJECTS: JSON.stringify({ 'ops@example.com': 'svc-a' }),
    };
    for (const domain of ['http://acme.cloudflareaccess.com', 'http://127.0.0.1']) {
      const result = parseConfig(baseEnv({ ...access, ACCESS_TEAM_DOMAIN: domain }));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.join('\n')).toMatch(/^ACCESS_TEAM_DOMAIN: /m);
    }
  });
});
