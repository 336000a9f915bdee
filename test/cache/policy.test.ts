import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError, type ErrorCode } from '../../src/lib/errors';
import { err, ok } from '../../src/lib/result';
import {
  KV_MIN_TTL_S,
  epochRetentionS,
  invalidatedByEpoch,
  kvExpirationTtlS,
  loadedDecision,
  makeNegativeEntry,
  makePositiveEntry,
  makeRevokedEntry,
  missDecision,
  positiveLifetimes,
  remainingFreshnessS,
  revokedBy,
  revokedLifetimeS,
  servable,
  staleIfErrorAllowed,
  type FreshnessPolicy,
} from '../../src/cache/policy';
import { APP, T0, authFor } from './fixtures';

const POLICY: FreshnessPolicy = { positiveTtlS: 60, negativeTtlS: 30, staleIfErrorS: 0 };
const iso = (ms: number) => new Date(ms).toISOString();

describe('positive freshness', () => {
  it('is positiveTtlS from now when the token does not expire', () => {
    expect(positiveLifetimes(T0, POLICY, null)).toEqual({
      freshUntilMs: T0 + 60_000,
      staleUntilMs: T0 + 60_000,
    });
  });

  it('never runs past expires_at', () => {
    expect(positiveLifetimes(T0, POLICY, T0 + 10_000).freshUntilMs).toBe(T0 + 10_000);
    expect(positiveLifetimes(T0, POLICY, T0 - 1).freshUntilMs).toBe(T0 - 1);
  });

  it('is zero for an unparseable expires_at', () => {
    const e = makePositiveEntry(authFor({ expiresAt: 'soon' }), APP.clientId, T0, T0, POLICY);
    expect(e.freshUntilMs).toBe(T0);
    expect(e.staleUntilMs).toBe(T0);
  });

  it('extends only the stale-if-error end, and that never past expires_at either', () => {
    const p = { ...POLICY, staleIfErrorS: 300 };
    expect(positiveLifetimes(T0, p, null)).toEqual({
      freshUntilMs: T0 + 60_000,
      staleUntilMs: T0 + 360_000,
    });
    expect(positiveLifetimes(T0, p, T0 + 100_000)).toEqual({
      freshUntilMs: T0 + 60_000,
      staleUntilMs: T0 + 100_000,
    });
  });

  it('holds for any ttl, expiry and now (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: 0, max: 3600 }),
        fc.option(fc.integer({ min: -1e7, max: 1e8 }), { nil: null }),
        (ttl, stale, expOffset) => {
          const exp = expOffset === null ? null : T0 + expOffset;
          const l = positiveLifetimes(
            T0,
            { positiveTtlS: ttl, negativeTtlS: 1, staleIfErrorS: stale },
            exp,
          );
          expect(l.freshUntilMs).toBeLessThanOrEqual(T0 + ttl * 1000);
          expect(l.staleUntilMs).toBeGreaterThanOrEqual(l.freshUntilMs);
          if (exp !== null) {
            expect(l.freshUntilMs).toBeLessThanOrEqual(exp);
            expect(l.staleUntilMs).toBeLessThanOrEqual(Math.max(exp, l.freshUntilMs));
          }
        },
      ),
    );
  });
});

describe('remainingFreshnessS', () => {
  it('is the full freshness right after storing and rounds down afterwards', () => {
    expect(remainingFreshnessS(T0 + 60_000, T0)).toBe(60);
    expect(remainingFreshnessS(T0 + 60_000, T0 + 1)).toBe(59);
    expect(remainingFreshnessS(T0 + 60_000, T0 + 59_999)).toBe(0);
    expect(remainingFreshnessS(T0 + 60_000, T0 + 90_000)).toBe(0);
  });

  it('never promises more than the entry has left (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e8 }),
        fc.integer({ min: -1e8, max: 1e8 }),
        (life, elapsed) => {
          const n = remainingFreshnessS(T0 + life, T0 + elapsed);
          expect(n).toBeGreaterThanOrEqual(0);
          expect(T0 + elapsed + n * 1000).toBeLessThanOrEqual(Math.max(T0 + life, T0 + elapsed));
        },
      ),
    );
  });
});

describe('kvExpirationTtlS', () => {
  it('is never under KV’s 60 s minimum and always an integer', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), (retain) => {
        const ttl = kvExpirationTtlS(T0, T0 + retain);
        expect(Number.isInteger(ttl)).toBe(true);
        expect(ttl).toBeGreaterThanOrEqual(KV_MIN_TTL_S);
        expect(ttl * 1000).toBeGreaterThanOrEqual(retain);
      }),
    );
    expect(kvExpirationTtlS(T0, T0 + 10_000)).toBe(60);
    expect(kvExpirationTtlS(T0, T0 + 360_001)).toBe(361);
  });
});

describe('negative, revoked and epoch lifetimes', () => {
  it('keeps a negative answer for negativeTtlS', () => {
    const e = makeNegativeEntry(T0, T0, POLICY);
    expect(e.freshUntilMs).toBe(T0 + 30_000);
    expect(e.result).toEqual({ active: false });
  });

  it('keeps a tombstone past every positive copy’s fresh and stale life, plus slack', () => {
    const p = { positiveTtlS: 60, negativeTtlS: 30, staleIfErrorS: 300 };
    expect(revokedLifetimeS(p)).toBeGreaterThan(60 + 300 + 60);
    expect(makeRevokedEntry(T0, p).freshUntilMs).toBe(T0 + revokedLifetimeS(p) * 1000);
    expect(revokedLifetimeS({ ...p, negativeTtlS: 5000 })).toBeGreaterThanOrEqual(5000);
  });

  it('keeps a grant epoch as long as an entry stored before it could be used', () => {
    expect(
      epochRetentionS({ positiveTtlS: 60, negativeTtlS: 30, staleIfErrorS: 300 }),
    ).toBeGreaterThan(360);
    expect(
      epochRetentionS({ positiveTtlS: 1, negativeTtlS: 1, staleIfErrorS: 0 }),
    ).toBeGreaterThanOrEqual(60);
  });

  it('treats entries asked for at or before the epoch as invalid', () => {
    expect(invalidatedByEpoch(T0, undefined)).toBe(false);
    expect(invalidatedByEpoch(T0, T0)).toBe(true);
    expect(invalidatedByEpoch(T0 - 1, T0)).toBe(true);
    expect(invalidatedByEpoch(T0 + 1, T0)).toBe(false);
  });
});

describe('staleIfErrorAllowed', () => {
  const p = { ...POLICY, staleIfErrorS: 300 };
  const positive = makePositiveEntry(authFor(), APP.clientId, T0, T0, p);
  const err = (code: ErrorCode) => new GatewayError(code);

  it('allows GHES 5xx, timeouts and unavailability within the window', () => {
    for (const code of ['upstream-error', 'upstream-timeout', 'upstream-unavailable'] as const) {
      expect(staleIfErrorAllowed(positive, T0 + 100_000, p, err(code))).toBe(true);
    }
  });

  it('refuses other failures, other kinds, the end of the window and the feature off', () => {
    for (const code of [
      'upstream-rate-limited',
      'upstream-credentials-rejected',
      'internal',
    ] as const) {
      expect(staleIfErrorAllowed(positive, T0 + 100_000, p, err(code))).toBe(false);
    }
    expect(staleIfErrorAllowed(positive, T0 + 100_000, p, new Error('boom'))).toBe(false);
    expect(staleIfErrorAllowed(positive, T0 + 360_000, p, err('upstream-error'))).toBe(false);
    expect(staleIfErrorAllowed(positive, T0 + 100_000, POLICY, err('upstream-error'))).toBe(false);
    expect(staleIfErrorAllowed(makeRevokedEntry(T0, p), T0, p, err('upstream-error'))).toBe(false);
    expect(
      staleIfErrorAllowed(makeNegativeEntry(T0, T0, p), T0 + 40_000, p, err('upstream-error')),
    ).toBe(false);
    expect(staleIfErrorAllowed(undefined, T0, p, err('upstream-error'))).toBe(false);
  });

  it('never past expires_at', () => {
    const expiring = makePositiveEntry(
      authFor({ expiresAt: iso(T0 + 90_000) }),
      APP.clientId,
      T0,
      T0,
      p,
    );
    expect(staleIfErrorAllowed(expiring, T0 + 89_999, p, err('upstream-error'))).toBe(true);
    expect(staleIfErrorAllowed(expiring, T0 + 90_000, p, err('upstream-error'))).toBe(false);
  });
});

describe('tier decisions', () => {
  const positive = makePositiveEntry(authFor(), APP.clientId, T0, T0, POLICY); // fresh 60 s
  const negative = makeNegativeEntry(T0, T0, POLICY); // fresh 30 s
  const tombstone = makeRevokedEntry(T0, POLICY);

  describe('servable', () => {
    it('serves a fresh entry up to the last millisecond of its freshness', () => {
      expect(servable(positive, T0 + 59_999, true, undefined)).toBe(true);
      expect(servable(positive, T0 + 60_000, true, undefined)).toBe(false);
    });

    it('refuses a positive entry asked for at or before a known grant epoch', () => {
      expect(servable(positive, T0 + 1, true, T0)).toBe(false);
      expect(servable(positive, T0 + 1, true, T0 - 1)).toBe(true);
    });

    it('serves a negative entry only where the app allows negatives; a tombstone always', () => {
      expect(servable(negative, T0, true, undefined)).toBe(true);
      expect(servable(negative, T0, false, undefined)).toBe(false);
      expect(servable(tombstone, T0, false, undefined)).toBe(true);
    });
  });

  describe('revokedBy (the tombstone under its own key)', () => {
    it('a fresh tombstone overtakes every entry, whenever it was asked for', () => {
      const revocation = makeRevokedEntry(T0 - 5_000, POLICY);
      expect(revokedBy(positive, revocation, T0)).toBe(true);
      expect(revokedBy(negative, revocation, T0)).toBe(true);
    });

    it('an expired one still undoes a positive asked for no later than it, and nothing else', () => {
      const revocation = makeRevokedEntry(T0, POLICY);
      const after = T0 + revokedLifetimeS(POLICY) * 1000;
      expect(revokedBy(positive, revocation, after)).toBe(true); // asked for at T0: a tie loses
      const later = makePositiveEntry(authFor(), APP.clientId, T0 + 1, T0 + 1, POLICY);
      expect(revokedBy(later, revocation, after)).toBe(false);
      expect(revokedBy(negative, revocation, after)).toBe(false);
    });

    it('no tombstone, or an entry of another kind given as one, revokes nothing', () => {
      expect(revokedBy(positive, undefined, T0)).toBe(false);
      expect(revokedBy(positive, negative, T0)).toBe(false);
    });
  });

  describe('missDecision', () => {
    const none = ok(undefined);

    it('uri-miss when no tier holds anything', () => {
      expect(missDecision(undefined, none, T0)).toEqual({ fwd: 'uri-miss', fallback: undefined });
    });

    it('stale when every entry found had expired, with the entry as fallback', () => {
      expect(missDecision(positive, none, T0 + 60_000)).toEqual({
        fwd: 'stale',
        fallback: positive,
      });
      expect(missDecision(undefined, ok(positive), T0 + 60_000).fwd).toBe('stale');
    });

    it('miss when a fresh entry was found (it was unusable) or KV failed', () => {
      expect(missDecision(positive, none, T0).fwd).toBe('miss');
      expect(missDecision(undefined, ok(negative), T0).fwd).toBe('miss');
      expect(missDecision(positive, ok(negative), T0 + 45_000).fwd).toBe('miss');
      expect(missDecision(undefined, err('error'), T0).fwd).toBe('miss');
      expect(missDecision(undefined, err('corrupt'), T0).fwd).toBe('miss');
    });

    it('falls back on the newest entry, so a stale L1 positive never beats a newer KV tombstone', () => {
      const later = makeRevokedEntry(T0 + 1, POLICY);
      expect(missDecision(positive, ok(later), T0 + 90_000).fallback).toBe(later);
      expect(missDecision(later, ok(positive), T0 + 90_000).fallback).toBe(later);
      // On a tie L1 wins.
      expect(missDecision(positive, ok(tombstone), T0 + 90_000).fallback).toBe(positive);
    });
  });

  describe('loadedDecision', () => {
    it('stores a fresh positive answer, and passes on one that is already past expires_at', () => {
      expect(loadedDecision(positive, T0, true, undefined)).toBe('store');
      const expired = makePositiveEntry(
        authFor({ expiresAt: iso(T0 - 1) }),
        APP.clientId,
        T0,
        T0,
        POLICY,
      );
      expect(loadedDecision(expired, T0, true, undefined)).toBe('pass');
    });

    it('answers revoked when a grant revocation here came at or after the load started', () => {
      expect(loadedDecision(positive, T0, true, T0)).toBe('revoked');
      expect(loadedDecision(positive, T0, true, T0 - 1)).toBe('store');
    });

    it('stores a negative answer only where the app allows negatives', () => {
      expect(loadedDecision(negative, T0, true, undefined)).toBe('store');
      expect(loadedDecision(negative, T0, false, undefined)).toBe('pass');
    });
  });
});
