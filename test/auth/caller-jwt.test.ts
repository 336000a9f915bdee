import { describe, expect, it } from 'vitest';
import { callerAuth } from '../../src/auth/caller-auth';
import { createCallerVerifier, type CallerJwtOptions } from '../../src/auth/caller-jwt';
import { createCallerKeySet } from '../../src/auth/keys';
import { ConfigurationError } from '../../src/lib/errors';
import {
  TEST_CALLER_AUDIENCE,
  TEST_CALLER_ISSUER,
  TEST_CALLER_SUB,
  createTestCallerKeys,
} from '../helpers/caller';
import { T0, TEST_POLICY, challenge, createHarness, minterFor } from './harness';

const keys = await createTestCallerKeys();
const mint = minterFor(keys);

describe('caller JWT verification, happy path', () => {
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
});

describe('caller JWT verification cache', () => {
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

  // Remembered for the token's whole allowed age plus the tolerance (iat is in whole seconds, as
  // jose reads it), never extended past it.
  it.each([
    [0, 10_999],
    [5, 15_999],
  ])(
    'with a clock tolerance of %i s, remembers a token of maximum age 10 s until T0 + %i ms and no longer',
    async (clockToleranceS, lastMs) => {
      const h = createHarness({ keys, clockToleranceS, maxTokenAgeS: 10 });
      const token = await mint({ exp: T0 / 1000 + 3600 });
      expect((await h.bearer(token)).status).toBe(200);
      h.clock.ms = T0 + lastMs;
      expect((await h.bearer(token)).status).toBe(200);
      expect(h.keyLookups.count).toBe(1);
      h.clock.ms = T0 + lastMs + 1;
      const res = await h.bearer(token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(challenge('token too old'));
    },
  );

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

describe("remembered callers (the hot paths' synchronous lookup)", () => {
  it('finds exactly the callers the middleware would reuse, without verifying or logging', async () => {
    const h = createHarness({ keys, clockToleranceS: 0 });
    const exp = T0 / 1000 + 30;
    const token = await mint({ exp });
    const headers = { authorization: `Bearer ${token}` };
    // Not verified yet: nothing to find, and nothing verified by looking.
    expect(h.rememberedCaller(headers)).toBeUndefined();
    expect(h.keyLookups.count).toBe(0);
    expect((await h.bearer(token)).status).toBe(200);
    expect(h.rememberedCaller(headers)).toBe(h.seen[0]);
    // The middleware's own reading of the header: any case of the scheme, trailing spaces.
    expect(h.rememberedCaller({ authorization: `bEARER  ${token}  ` })?.sub).toBe(TEST_CALLER_SUB);
    // Not in Bearer form, another token, no header: the middleware's to decide.
    for (const other of [
      { authorization: `Basic ${token}` },
      { authorization: `Bearer ${token}x` },
      {},
    ])
      expect(h.rememberedCaller(other)).toBeUndefined();
    expect(h.keyLookups.count).toBe(1);
    expect(h.logs).toEqual([]);
    // Up to the instant the full check would fail on time (exp here), never after.
    h.clock.ms = exp * 1000 - 1;
    expect(h.rememberedCaller(headers)).toBeDefined();
    h.clock.ms = exp * 1000;
    expect(h.rememberedCaller(headers)).toBeUndefined();
  });

  it('reads the header the middleware is built for', async () => {
    const h = createHarness({ keys, header: 'x-gateway-authorization' });
    const token = await mint();
    expect((await h.bearer(token)).status).toBe(200);
    expect(h.rememberedCaller({ 'x-gateway-authorization': `Bearer ${token}` })).toBeDefined();
    expect(h.rememberedCaller({ authorization: `Bearer ${token}` })).toBeUndefined();
  });

  it('finds nothing with the verification cache off', async () => {
    const h = createHarness({ keys, verificationCacheSize: 0 });
    const token = await mint();
    expect((await h.bearer(token)).status).toBe(200);
    expect(h.rememberedCaller({ authorization: `Bearer ${token}` })).toBeUndefined();
  });
});

describe('createCallerVerifier option checks', () => {
  const base = (): CallerJwtOptions => ({
    issuer: TEST_CALLER_ISSUER,
    audience: TEST_CALLER_AUDIENCE,
    algorithms: ['ES256'],
    keySet: createCallerKeySet({ jwks: keys.jwks, jwksUrl: undefined, algorithms: ['ES256'] }),
    clockToleranceS: 30,
    maxTokenAgeS: 0,
    policy: TEST_POLICY,
  });

  it('builds with valid options', () => {
    expect(() => createCallerVerifier(base())).not.toThrow();
  });

  // The clock-tolerance bound (0–30 s) is the config's: test/env/config.test.ts.
  it.each<[string, Partial<CallerJwtOptions> | Record<string, unknown>, RegExp]>([
    ['empty algorithms', { algorithms: [] }, /"algorithms" must list at least one algorithm/],
    ['alg none', { algorithms: ['ES256', 'none'] }, /must not contain "none"/],
    ['HS256', { algorithms: ['HS256'] }, /must not contain HS256: symmetric/],
    ['unknown alg', { algorithms: ['ES999'] }, /unsupported "ES999"/],
    ['a number among the algorithms', { algorithms: ['ES256', 256] }, /must contain strings/],
    ['null among the algorithms', { algorithms: [null, 'ES256'] }, /must contain strings/],
    ['empty issuer', { issuer: '' }, /"issuer" must be a non-empty string/],
    ['empty audience', { audience: '' }, /"audience" must be a non-empty string/],
    ['no key set', { keySet: undefined }, /"keySet" must be a key resolver/],
    ['fractional max age', { maxTokenAgeS: 1.5 }, /"maxTokenAgeS" must be a non-negative integer/],
    ['no policy', { policy: null }, /"policy" must be an object/],
    ['bad cache size', { verificationCacheSize: -1 }, /"verificationCacheSize"/],
    ['bad cache ttl', { verificationCacheTtlS: 3601 }, /"verificationCacheTtlS"/],
  ])('throws on %s, also through callerAuth', (_name, patch, message) => {
    const options = { ...base(), ...patch } as CallerJwtOptions;
    expect(() => createCallerVerifier(options)).toThrow(ConfigurationError);
    expect(() => createCallerVerifier(options)).toThrow(message);
    expect(() => callerAuth({ ...options, log: () => {} })).toThrow(message);
  });
});
