/**
 * A KV value is never fresh beyond `stored_at` + the current configuration's lifetime for its
 * kind, whatever its `fresh_until` says: values written under a longer CACHE_POSITIVE_TTL_S /
 * CACHE_NEGATIVE_TTL_S (an older deployment), and corrupt or forged far-future timestamps.
 */
import { describe, expect, it } from 'vitest';
import { decodeValue } from '../../src/cache/entry';
import { GatewayError } from '../../src/lib/errors';
import { revokedLifetimeS } from '../../src/cache/policy';
import {
  APP,
  NOT_FOUND,
  found,
  harness,
  loader,
  otherIsolate,
  token,
  type Harness,
} from './fixtures';

/** Rewrites the one token value in KV through `edit`. */
async function forge(h: Harness, edit: (value: Record<string, unknown>) => void): Promise<void> {
  const stored = await h.kv.dump();
  const entry = stored.find((e) => e.key.startsWith('v1:tok:'));
  if (entry === undefined) throw new Error('no token value in KV');
  const value = JSON.parse(entry.value) as Record<string, unknown>;
  edit(value);
  await h.kv.kv.put(entry.key, JSON.stringify(value), { expirationTtl: 86_400 });
}

describe('KV freshness is capped by the current configuration on read', () => {
  it('a positive written under a one-hour TTL is served for the current 60 s only', async () => {
    const old = harness({ positiveTtlS: 3600 });
    await old.cache.check(APP, token(1), loader(found()));
    const now = otherIsolate(old); // positiveTtlS 60

    old.clock.advance(30);
    const hit = await now.cache.check(APP, token(1), loader(found()));
    expect(hit).toMatchObject({ source: 'kv', freshForS: 30 });
    expect(hit.cacheStatus).toBe('ghes-token-gateway; hit; ttl=30; detail=kv');

    old.clock.advance(31);
    const load = loader(found());
    const after = await otherIsolate(old).cache.check(APP, token(1), load);
    expect(after.source).toBe('ghes');
    expect(after.cacheStatus).toMatch(/^ghes-token-gateway; fwd=stale; fwd-status=200/);
    expect(load.calls).toBe(1);
  });

  it('a forged far-future fresh_until on a positive is not trusted', async () => {
    const a = harness();
    await a.cache.check(APP, token(2), loader(found()));
    await forge(a, (v) => {
      v['fresh_until'] = 9_999_999_999;
    });
    a.clock.advance(59);
    expect((await otherIsolate(a).cache.check(APP, token(2), loader(found()))).source).toBe('kv');
    a.clock.advance(1);
    const load = loader(found());
    expect((await otherIsolate(a).cache.check(APP, token(2), load)).source).toBe('ghes');
    expect(load.calls).toBe(1);
  });

  it('a negative written under a longer CACHE_NEGATIVE_TTL_S expires on the current one', async () => {
    const old = harness({ negativeTtlS: 3600 });
    await old.cache.check(APP, token(3), loader(NOT_FOUND));
    old.clock.advance(29);
    expect((await otherIsolate(old).cache.check(APP, token(3), loader(found()))).source).toBe('kv');
    old.clock.advance(1); // the current negativeTtlS is 30
    const load = loader(found());
    const o = await otherIsolate(old).cache.check(APP, token(3), load);
    expect(o).toMatchObject({ source: 'ghes', result: { active: true } });
    expect(load.calls).toBe(1);
  });

  it('a tombstone is kept for the current tombstone life, not the one it was written with', async () => {
    const old = harness({ positiveTtlS: 3600, staleIfErrorS: 3600 });
    await old.cache.invalidateToken(APP, token(4));
    const value = decodeValue((await old.kv.dump())[0]!.value);
    expect(value.ok && value.value.kind).toBe('revoked');
    const lifeS = revokedLifetimeS({ positiveTtlS: 60, negativeTtlS: 30, staleIfErrorS: 0 });

    old.clock.advance(lifeS - 1);
    const inactive = await otherIsolate(old).cache.check(APP, token(4), loader(found()));
    expect(inactive).toMatchObject({ source: 'kv', result: { active: false } });
    old.clock.advance(1);
    const load = loader(found());
    expect((await otherIsolate(old).cache.check(APP, token(4), load)).source).toBe('ghes');
    expect(load.calls).toBe(1);
  });

  it('a forged far-future fresh_until on a negative is not trusted either', async () => {
    const a = harness();
    await a.cache.check(APP, token(5), loader(NOT_FOUND));
    await forge(a, (v) => {
      v['fresh_until'] = 9_999_999_999;
    });
    a.clock.advance(30);
    const load = loader(found());
    expect((await otherIsolate(a).cache.check(APP, token(5), load)).result.active).toBe(true);
  });

  it('stale-if-error counts from the capped freshness, with the current window', async () => {
    const old = harness({ positiveTtlS: 3600, staleIfErrorS: 3600 });
    await old.cache.check(APP, token(6), loader(found()));
    const down = () => loader(() => Promise.reject(new GatewayError('upstream-error')));
    old.clock.advance(65);
    const stale = await otherIsolate(old, { staleIfErrorS: 10 }).cache.check(APP, token(6), down());
    expect(stale).toMatchObject({ source: 'stale', freshForS: 0 });
    old.clock.advance(5); // 60 s fresh + 10 s stale, counted from stored_at
    await expect(
      otherIsolate(old, { staleIfErrorS: 10 }).cache.check(APP, token(6), down()),
    ).rejects.toMatchObject({ code: 'upstream-error' });
  });

  it('a stored_at in the future is no value this gateway wrote: a miss, logged as corrupt', async () => {
    const a = harness();
    await a.cache.check(APP, token(7), loader(found()));
    await forge(a, (v) => {
      v['stored_at'] = a.clock.ms / 1000 + 86_400;
      v['fresh_until'] = a.clock.ms / 1000 + 86_400 + 60;
    });
    const b = otherIsolate(a);
    const load = loader(found());
    expect((await b.cache.check(APP, token(7), load)).cacheStatus).toMatch(/fwd=miss/);
    expect(load.calls).toBe(1);
    expect(b.logs.events('cache.kv_corrupt')).toEqual([
      expect.objectContaining({ reason: 'stored_at in the future' }),
    ]);
  });
});
