import { beforeAll, describe, expect, it } from 'vitest';
import { callerAuth, type CallerAuthOptions } from '../../src/auth/caller-auth';
import { createCallerVerifier } from '../../src/auth/caller-jwt';
import { createCallerKeySet } from '../../src/auth/keys';
import { PROBLEM_CONTENT_TYPE } from '../../src/lib/errors';
import {
  TEST_CALLER_AUDIENCE,
  TEST_CALLER_ISSUER,
  TEST_CALLER_SUB,
  createTestCallerKeys,
  mintCallerJwt,
  type TestCallerKeys,
} from '../helpers/caller';
import { T0, TEST_POLICY, challenge, createHarness } from './harness';

let keys: TestCallerKeys;
beforeAll(async () => {
  keys = await createTestCallerKeys();
});

const mint = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  mintCallerJwt(keys, claims, header, { now: T0 });

describe('callerAuth happy path', () => {
  it('sets the caller with its policy and verified claims, then runs the handler', async () => {
    const h = createHarness({ keys });
    const token = await mint();
    const res = await h.bearer(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: TEST_CALLER_SUB });
    expect(h.seen).toEqual([
      {
        source: 'jwt',
        sub: TEST_CALLER_SUB,
        policy: TEST_POLICY[TEST_CALLER_SUB],
        claims: {
          iss: TEST_CALLER_ISSUER,
          aud: TEST_CALLER_AUDIENCE,
          exp: T0 / 1000 + 300,
          iat: T0 / 1000,
        },
      },
    ]);
    expect(Object.isFrozen(h.seen[0])).toBe(true);
  });

  it('accepts a case-insensitive scheme, an aud array that contains ours, and no iat', async () => {
    const h = createHarness({ keys });
    const token = await mint({ aud: ['other', TEST_CALLER_AUDIENCE], iat: undefined });
    const res = await h.request({ authorization: `bearer ${token}` });
    expect(res.status).toBe(200);
    const seen = h.seen[0];
    expect(seen?.source).toBe('jwt');
    expect(seen?.source === 'jwt' && seen.claims).toEqual({
      iss: TEST_CALLER_ISSUER,
      aud: ['other', TEST_CALLER_AUDIENCE],
      exp: T0 / 1000 + 300,
    });
  });

  it.each(['JWT', 'jwt', 'at+jwt', 'application/at+jwt', 'application/JWT', undefined])(
    'accepts typ %s',
    async (typ) => {
      const h = createHarness({ keys });
      const res = await h.bearer(await mint({}, { typ }));
      expect(res.status).toBe(200);
    },
  );

  it('accepts a token without kid when the key set has a single key', async () => {
    const h = createHarness({ keys });
    const res = await h.bearer(await mint({}, { kid: undefined }));
    expect(res.status).toBe(200);
  });

  it('accepts exp up to the clock tolerance in the past', async () => {
    const h = createHarness({ keys, clockToleranceS: 30 });
    const res = await h.bearer(await mint({ exp: T0 / 1000 - 29 }));
    expect(res.status).toBe(200);
  });

  it('applies the clock tolerance exactly at its bound, for exp and nbf alike', async () => {
    const h = createHarness({ keys, clockToleranceS: 30 });
    const s = T0 / 1000;
    // RFC 7519 §4.1.4: now must be before exp, so exp = now - tolerance is already expired.
    expect((await h.bearer(await mint({ exp: s - 29 }))).status).toBe(200);
    expect((await h.bearer(await mint({ exp: s - 30 }))).status).toBe(401);
    expect((await h.bearer(await mint({ nbf: s + 30 }))).status).toBe(200);
    expect((await h.bearer(await mint({ nbf: s + 31 }))).status).toBe(401);
  });

  it.each([0, 5, 30])(
    'refuses an iat beyond a clock tolerance of %i s, with or without a maximum age',
    async (tolerance) => {
      const s = T0 / 1000;
      for (const maxTokenAgeS of [0, 3600]) {
        const h = createHarness({ keys, clockToleranceS: tolerance, maxTokenAgeS });
        expect((await h.bearer(await mint({ iat: s + tolerance }))).status).toBe(200);
        const late = await h.bearer(await mint({ iat: s + tolerance + 1 }));
        expect(late.status).toBe(401);
        expect(((await late.json()) as { detail: string }).detail).toBe(
          'Invalid caller token: token issued in the future.',
        );
      }
    },
  );

  it('accepts a post-dated token once the clock reaches it (a refusal is not remembered)', async () => {
    const h = createHarness({ keys, clockToleranceS: 30 });
    const token = await mint({ iat: T0 / 1000 + 120 });
    expect((await h.bearer(token)).status).toBe(401);
    h.clock.ms += 120_000;
    expect((await h.bearer(token)).status).toBe(200);
  });

  it('reads X-Gateway-Authorization when configured, ignoring Authorization', async () => {
    const h = createHarness({ keys, header: 'x-gateway-authorization' });
    const token = await mint();
    const ok = await h.request({
      'x-gateway-authorization': `Bearer ${token}`,
      authorization: 'Bearer ghp_end-user-token',
    });
    expect(ok.status).toBe(200);
    const missing = await h.request({ authorization: `Bearer ${token}` });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="ghes-token-gateway"');
    expect(h.seen).toHaveLength(1);
  });

  it('returns a named middleware', () => {
    const mw = callerAuth({
      issuer: 'i',
      audience: 'a',
      algorithms: ['ES256'],
      keySet: createCallerKeySet({ jwks: keys.jwks, jwksUrl: undefined, algorithms: ['ES256'] }),
      clockToleranceS: 0,
      maxTokenAgeS: 0,
      policy: {},
      log: () => {},
    });
    expect(mw.name).toBe('callerAuthMiddleware');
  });
});

describe('callerAuth verification cache', () => {
  it('verifies a repeated credential once', async () => {
    const h = createHarness({ keys });
    const token = await mint();
    for (let i = 0; i < 5; i++) expect((await h.bearer(token)).status).toBe(200);
    expect(h.keyLookups.count).toBe(1);
    expect(h.seen).toHaveLength(5);
  });

  it('never extends a token past exp (+ tolerance), even when cached', async () => {
    const h = createHarness({ keys, clockToleranceS: 5 });
    const exp = T0 / 1000 + 20;
    const token = await mint({ exp });
    expect((await h.bearer(token)).status).toBe(200);
    h.clock.ms = (exp + 5) * 1000 - 1;
    expect((await h.bearer(token)).status).toBe(200);
    expect(h.keyLookups.count).toBe(1);
    h.clock.ms = (exp + 5) * 1000;
    const res = await h.bearer(token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('token expired'));
    expect(h.seen).toHaveLength(2);
  });

  it('never extends a token past its maximum age, even when cached', async () => {
    const h = createHarness({ keys, clockToleranceS: 0, maxTokenAgeS: 10 });
    const token = await mint({ exp: T0 / 1000 + 3600 });
    expect((await h.bearer(token)).status).toBe(200);
    h.clock.ms = T0 + 10_999;
    expect((await h.bearer(token)).status).toBe(200);
    h.clock.ms = T0 + 11_000;
    const res = await h.bearer(token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('token too old'));
  });

  it('re-verifies after the cache lifetime (60 s by default)', async () => {
    const h = createHarness({ keys });
    const token = await mint({ exp: T0 / 1000 + 3600 });
    await h.bearer(token);
    h.clock.ms = T0 + 59_999;
    await h.bearer(token);
    expect(h.keyLookups.count).toBe(1);
    h.clock.ms = T0 + 60_000;
    expect((await h.bearer(token)).status).toBe(200);
    expect(h.keyLookups.count).toBe(2);
  });

  it('is bounded, evicting the least recently used credential', async () => {
    const h = createHarness({ keys, verificationCacheSize: 2 });
    const [a, b, c] = await Promise.all([
      mint({ jti: 'a' }),
      mint({ jti: 'b' }),
      mint({ jti: 'c' }),
    ]);
    await h.bearer(a);
    await h.bearer(b);
    await h.bearer(a); // a is now the most recently used
    await h.bearer(c); // evicts b
    expect(h.keyLookups.count).toBe(3);
    await h.bearer(a);
    expect(h.keyLookups.count).toBe(3);
    await h.bearer(b);
    expect(h.keyLookups.count).toBe(4);
  });

  it('can be turned off', async () => {
    const h = createHarness({ keys, verificationCacheSize: 0 });
    const token = await mint();
    await h.bearer(token);
    await h.bearer(token);
    expect(h.keyLookups.count).toBe(2);
  });
});

describe('callerAuth option checks', () => {
  const base = (): CallerAuthOptions => ({
    issuer: TEST_CALLER_ISSUER,
    audience: TEST_CALLER_AUDIENCE,
    algorithms: ['ES256'],
    keySet: createCallerKeySet({ jwks: keys.jwks, jwksUrl: undefined, algorithms: ['ES256'] }),
    clockToleranceS: 30,
    maxTokenAgeS: 0,
    policy: TEST_POLICY,
    log: () => {},
  });

  it('builds with valid options', () => {
    expect(() => callerAuth(base())).not.toThrow();
    expect(() => createCallerVerifier(base())).not.toThrow();
  });

  it.each<[string, Partial<CallerAuthOptions> | Record<string, unknown>, RegExp]>([
    ['empty algorithms', { algorithms: [] }, /"algorithms" must list at least one algorithm/],
    ['alg none', { algorithms: ['ES256', 'none'] }, /must not contain "none"/],
    ['HS256', { algorithms: ['HS256'] }, /must not contain HS256: symmetric/],
    ['unknown alg', { algorithms: ['ES999'] }, /unsupported "ES999"/],
    ['empty issuer', { issuer: '' }, /"issuer" must be a non-empty string/],
    ['empty audience', { audience: '' }, /"audience" must be a non-empty string/],
    ['no key set', { keySet: undefined }, /"keySet" must be a key resolver/],
    [
      'negative tolerance',
      { clockToleranceS: -1 },
      /"clockToleranceS" must be an integer from 0 to 30/,
    ],
    [
      'a tolerance above 30 s',
      { clockToleranceS: 31 },
      /"clockToleranceS" must be an integer from 0 to 30/,
    ],
    ['fractional max age', { maxTokenAgeS: 1.5 }, /"maxTokenAgeS" must be a non-negative integer/],
    [
      'an Access team domain that is not an https origin',
      {
        access: {
          config: { teamDomain: 'acme.cloudflareaccess.com', audience: ['a'], subjects: {} },
          keySet: async () => new Uint8Array(),
        },
      },
      /"access.config.teamDomain" must be an https origin/,
    ],
    [
      'Access without an audience',
      {
        access: {
          config: { teamDomain: 'https://acme.cloudflareaccess.com', audience: [], subjects: {} },
          keySet: async () => new Uint8Array(),
        },
      },
      /"access.config.audience" must list at least one AUD tag/,
    ],
    [
      'Access without a key set',
      {
        access: {
          config: {
            teamDomain: 'https://acme.cloudflareaccess.com',
            audience: ['a'],
            subjects: {},
          },
          keySet: undefined,
        },
      },
      /"access.keySet" must be a key resolver/,
    ],
    ['mTLS callers that are not a Map', { mtls: { callers: {} } }, /"mtls.callers" must be a Map/],
    [
      'bad header',
      { header: 'cookie' },
      /"header" must be "authorization" or "x-gateway-authorization"/,
    ],
    ['no policy', { policy: null }, /"policy" must be an object/],
    ['no logger', { log: undefined }, /"log" must be a Logger/],
    ['bad cache size', { verificationCacheSize: -1 }, /"verificationCacheSize"/],
    ['bad cache ttl', { verificationCacheTtlS: 3601 }, /"verificationCacheTtlS"/],
  ])('throws on %s', (_name, patch, message) => {
    const options = { ...base(), ...patch } as CallerAuthOptions;
    expect(() => callerAuth(options)).toThrow(message);
  });

  it('answers problem+json with no-store', async () => {
    const h = createHarness({ keys });
    const res = await h.request();
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
