/** The rules for trusting a value read back from KV (src/cache/kv-tier.ts). */
import { describe, expect, it } from 'vitest';
import { entryFromValue, freshLimitS, storedValueProblem } from '../../src/cache/kv-tier';
import { revokedLifetimeS, type FreshnessPolicy } from '../../src/cache/policy';
import { APP, T0, authFor } from './fixtures';

const POLICY: FreshnessPolicy = { positiveTtlS: 60, negativeTtlS: 30, staleIfErrorS: 0 };
const iso = (ms: number) => new Date(ms).toISOString();

describe('entryFromValue', () => {
  it('applies the expires_at cap again on read', () => {
    const entry = entryFromValue(
      {
        v: 1,
        kind: 'positive',
        auth: authFor({ expiresAt: iso(T0 + 5_000) }),
        user_id: 42,
        fresh_until: (T0 + 3_600_000) / 1000,
        stored_at: T0 / 1000,
      },
      APP.clientId,
      POLICY,
    );
    expect(entry.freshUntilMs).toBe(T0 + 5_000);
    expect(entry.kind === 'positive' && entry.scope).toBe(`${APP.clientId}:42`);
  });

  it('round-trips millisecond timestamps exactly', () => {
    const entry = entryFromValue(
      { v: 1, kind: 'negative', fresh_until: (T0 + 1234) / 1000, stored_at: (T0 + 7) / 1000 },
      APP.clientId,
      POLICY,
    );
    expect(entry.freshUntilMs).toBe(T0 + 1234);
    expect(entry.storedAtMs).toBe(T0 + 7);
  });
});

describe('entryFromValue: fresh_until capped by the current lifetimes', () => {
  const stored = T0 / 1000;
  const far = 9_999_999_999;
  it.each([
    ['positive', POLICY.positiveTtlS],
    ['negative', POLICY.negativeTtlS],
    ['revoked', revokedLifetimeS(POLICY)],
  ] as const)('%s: at most stored_at + its lifetime (%i s)', (kind, lifeS) => {
    const value =
      kind === 'positive'
        ? { v: 1 as const, kind, auth: authFor(), user_id: 42, fresh_until: far, stored_at: stored }
        : { v: 1 as const, kind, fresh_until: far, stored_at: stored };
    const entry = entryFromValue(value, APP.clientId, POLICY);
    expect(entry.freshUntilMs).toBe(T0 + lifeS * 1000);
    expect(entry.staleUntilMs).toBe(T0 + lifeS * 1000);
    expect(freshLimitS(kind, POLICY)).toBe(lifeS);
  });

  it('keeps an earlier fresh_until as it is', () => {
    const entry = entryFromValue(
      { v: 1, kind: 'negative', fresh_until: stored + 5, stored_at: stored },
      APP.clientId,
      POLICY,
    );
    expect(entry.freshUntilMs).toBe(T0 + 5_000);
  });

  it('refuses a stored_at beyond the allowed clock difference', () => {
    const at = (s: number) => ({
      v: 1 as const,
      kind: 'negative' as const,
      fresh_until: s + 30,
      stored_at: s,
    });
    expect(storedValueProblem(at(stored + 180), T0)).toBeUndefined();
    expect(storedValueProblem(at(stored + 181), T0)).toBe('stored_at in the future');
  });
});
