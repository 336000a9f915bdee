import { describe, expect, it } from 'vitest';
import { until } from '../helpers/clock';
import { GatewayError } from '../../src/lib/errors';
import { decodeValue } from '../../src/cache/entry';
import { revokedLifetimeS } from '../../src/cache/policy';
import {
  APP,
  OTHER_APP,
  authFor,
  deferred,
  failing,
  found,
  harness,
  loader,
  otherIsolate,
  token,
} from './fixtures';
import type { LoadResult } from '../../src/cache/token-cache';

describe('invalidateToken (token deleted or reset through the gateway)', () => {
  it('answers inactive at once here without asking GHES, and from KV elsewhere', async () => {
    const a = harness();
    await a.cache.check(APP, token(1), loader(found()));
    await a.cache.invalidateToken(APP, token(1));

    const load = loader(found());
    const here = await a.cache.check(APP, token(1), load);
    expect(here).toMatchObject({ result: { active: false }, source: 'l1' });
    // A tombstone hit looks like a negative hit: no ttl (it would outlast a negative's).
    expect(here.cacheStatus).toBe('ghes-token-gateway; hit; detail=l1');

    const elsewhere = await otherIsolate(a).cache.check(APP, token(1), load);
    expect(elsewhere).toMatchObject({ result: { active: false }, source: 'kv' });
    expect(load.calls).toBe(0);

    // The tombstone has its own key; the positive answer beside it no longer counts.
    const stored = new Map((await a.kv.dump()).map((e) => [e.key.split(':')[1], e.value]));
    expect([...stored.keys()].sort()).toEqual(['revoked', 'tok']);
    const value = decodeValue(stored.get('revoked')!);
    expect(value.ok && value.value.kind).toBe('revoked');
    expect(a.kv.puts.at(-1)!.key).toMatch(/^v1:revoked:[A-Za-z0-9_-]{43}$/);
    expect(a.kv.puts.at(-1)!.expirationTtl).toBeGreaterThanOrEqual(60);
    expect(a.logs.events('cache.token_invalidated')).toHaveLength(1);
  });

  it('another isolate keeps its own L1 copy until its freshness ends, then sees the tombstone', async () => {
    const a = harness();
    const b = otherIsolate(a);
    await a.cache.check(APP, token(2), loader(found()));
    await b.cache.check(APP, token(2), loader(found()));
    await a.cache.invalidateToken(APP, token(2));

    const load = loader(found());
    a.clock.advance(59);
    expect((await b.cache.check(APP, token(2), load)).result.active).toBe(true);
    a.clock.advance(1);
    expect(await b.cache.check(APP, token(2), load)).toMatchObject({
      result: { active: false },
      source: 'kv',
    });
    expect(load.calls).toBe(0);
  });

  it('an in-flight load that started before the revocation neither resurrects nor answers active', async () => {
    const { cache, kv } = harness();
    const gate = deferred<LoadResult>();
    const started = deferred<void>();
    const slow = loader(() => (started.resolve(), gate.promise));
    const before = cache.check(APP, token(3), slow);
    const follower = cache.check(APP, token(3), slow);
    await started.promise;
    await cache.invalidateToken(APP, token(3));
    gate.resolve(found());

    const [leader, waiter] = await Promise.all([before, follower]);
    expect(leader).toMatchObject({ result: { active: false }, freshForS: 0, source: 'ghes' });
    // Shaped like an unknown token's GHES 404: nothing says GHES said 200 or that it was revoked.
    expect(leader.cacheStatus).toBe('ghes-token-gateway; fwd=miss; stored');
    expect(waiter).toMatchObject({ result: { active: false }, freshForS: 0, source: 'coalesced' });
    expect(waiter.cacheStatus).toBe('ghes-token-gateway; fwd=miss; stored; collapsed');
    const load = loader(found());
    expect(await cache.check(APP, token(3), load)).toMatchObject({
      result: { active: false },
      source: 'l1',
    });
    expect(load.calls).toBe(0);
    const values = (await kv.dump()).map((e) => decodeValue(e.value));
    expect(values.map((v) => v.ok && v.value.kind)).toEqual(['revoked']);
  });

  it('a positive write landing after the tombstone does not bring the token back', async () => {
    const a = harness();
    const hold = deferred<void>();
    a.kv.holdNextPut = hold.promise;
    const background: Promise<unknown>[] = [];
    const o = await a.cache.check(APP, token(8), loader(found()), {
      waitUntil: (p) => background.push(p),
    });
    expect(o.result.active).toBe(true);
    await until(() => a.kv.holdNextPut === undefined); // the positive's put has begun, held
    // The tombstone goes to its own key at once; the held positive lands after it.
    await a.cache.invalidateToken(APP, token(8));
    hold.resolve();
    await Promise.all(background);
    expect(a.kv.puts.map((p) => [p.key.split(':')[1], JSON.parse(p.value).kind])).toEqual([
      ['revoked', 'revoked'],
      ['tok', 'positive'],
    ]);
    const load = loader(found());
    expect(await otherIsolate(a).cache.check(APP, token(8), load)).toMatchObject({
      result: { active: false },
      source: 'kv',
    });
    expect(load.calls).toBe(0);
  });

  it('the tombstone does not wait for a positive write that never finishes', async () => {
    const { cache, kv } = harness();
    kv.holdNextPut = new Promise<void>(() => undefined);
    const o = await cache.check(APP, token(9), loader(found()), { waitUntil: () => undefined });
    expect(o.result.active).toBe(true);
    await until(() => kv.holdNextPut === undefined); // the positive's put has begun, and hangs
    await cache.invalidateToken(APP, token(9));
    expect(kv.puts.map((p) => (JSON.parse(p.value) as { kind: string }).kind)).toEqual(['revoked']);
    // And in this isolate the token is inactive at once, whatever KV does.
    expect((await cache.check(APP, token(9), loader(found()))).result).toEqual({ active: false });
  });

  it('a check after the revocation does not join the old load', async () => {
    const { cache } = harness();
    const gate = deferred<LoadResult>();
    const started = deferred<void>();
    const slow = loader(() => (started.resolve(), gate.promise));
    const before = cache.check(APP, token(4), slow);
    await started.promise;
    await cache.invalidateToken(APP, token(4));
    const load = loader(found());
    const after = await cache.check(APP, token(4), load);
    expect(after.result).toEqual({ active: false });
    expect(load.calls).toBe(0);
    gate.resolve(found());
    expect((await before).result).toEqual({ active: false });
    expect(slow.calls).toBe(1);
  });

  it('the tombstone outlives every positive copy, then the token is simply asked about again', async () => {
    const a = harness({ staleIfErrorS: 300 });
    await a.cache.check(APP, token(5), loader(found()));
    await a.cache.invalidateToken(APP, token(5));
    const life = revokedLifetimeS({ positiveTtlS: 60, negativeTtlS: 30, staleIfErrorS: 300 });
    const load = loader({ found: false });
    a.clock.advance(life - 1);
    expect(
      (await otherIsolate(a, { staleIfErrorS: 300 }).cache.check(APP, token(5), load)).source,
    ).toBe('kv');
    a.clock.advance(1);
    expect((await a.cache.check(APP, token(5), load)).source).toBe('ghes');
    expect(load.calls).toBe(1);
  });

  it('a failing tombstone write is retried once and reported when it still fails', async () => {
    const a = harness();
    await a.cache.check(APP, token(6), loader(found()));
    a.kv.rateLimitNextPuts = 1;
    await a.cache.invalidateToken(APP, token(6));
    const b = otherIsolate(a);
    const load = loader(found());
    expect((await b.cache.check(APP, token(6), load)).result).toEqual({ active: false });
    expect(load.calls).toBe(0);

    a.kv.failPuts = true;
    await expect(a.cache.invalidateToken(APP, token(7))).resolves.toBeUndefined();
    expect(a.logs.events('cache.invalidation_not_replicated')).toHaveLength(1);
    // Still effective in this isolate.
    expect((await a.cache.check(APP, token(7), load)).result).toEqual({ active: false });
    expect(load.calls).toBe(0);
  });
});

describe('invalidateGrant (grant deleted through the gateway)', () => {
  it('drops every cached token of that user for that app, here and through KV', async () => {
    const a = harness();
    const b = otherIsolate(a);
    const alice1 = authFor({ id: 1, userId: 42 });
    const alice2 = authFor({ id: 2, userId: 42 });
    const bob = authFor({ id: 3, userId: 7 });
    await a.cache.check(APP, token('a1'), loader(found(alice1)));
    await a.cache.check(APP, token('a2'), loader(found(alice2)));
    await a.cache.check(APP, token('b1'), loader(found(bob)));
    await a.cache.check(OTHER_APP, token('a1'), loader(found(authFor({ id: 4, userId: 42 }))));
    a.clock.advance(1);
    expect(await a.cache.invalidateGrant(APP, 42)).toBe(true);
    expect(a.cache.stats().l1Size).toBe(2);
    expect(a.kv.puts.at(-1)).toMatchObject({ key: `v1:epoch:${APP.clientId}:42` });
    expect(a.kv.puts.at(-1)!.expirationTtl).toBeGreaterThanOrEqual(60);

    const gone = loader({ found: false });
    expect((await a.cache.check(APP, token('a1'), gone)).result).toEqual({ active: false });
    expect((await a.cache.check(APP, token('b1'), gone)).source).toBe('l1');
    expect((await a.cache.check(OTHER_APP, token('a1'), gone)).source).toBe('l1');
    expect(gone.calls).toBe(1);

    // Another isolate reading the pre-revocation KV value re-checks GHES (the epoch is in KV).
    const bGone = loader({ found: false });
    const o = await b.cache.check(APP, token('a2'), bGone);
    expect(o).toMatchObject({ result: { active: false }, source: 'ghes' });
    expect(o.cacheStatus).toContain('fwd=miss');
    expect((await b.cache.check(APP, token('b1'), bGone)).source).toBe('kv');
    expect(bGone.calls).toBe(1);
  });

  it('the L1 hit path honours an epoch this isolate learnt, even for entries it did not evict', async () => {
    const a = harness();
    const b = otherIsolate(a);
    await a.cache.check(APP, token('c1'), loader(found()));
    await a.cache.check(APP, token('c2'), loader(found(authFor({ id: 2 }))));
    // b has c1 in L1 and then learns the epoch by reading c2 from KV.
    await b.cache.check(APP, token('c1'), loader(found()));
    a.clock.advance(1);
    await a.cache.invalidateGrant(APP, 42);
    const load = loader({ found: false });
    await b.cache.check(APP, token('c2'), load);
    expect((await b.cache.check(APP, token('c1'), load)).result).toEqual({ active: false });
    expect(load.calls).toBe(2);
  });

  it('a load in flight across the revocation answers inactive and stores nothing', async () => {
    const { cache, kv } = harness();
    const gate = deferred<LoadResult>();
    const started = deferred<void>();
    const pending = cache.check(
      APP,
      token('d1'),
      loader(() => (started.resolve(), gate.promise)),
    );
    await started.promise;
    await cache.invalidateGrant(APP, 42);
    gate.resolve(found());
    const o = await pending;
    expect(o.result).toEqual({ active: false });
    expect(o.cacheStatus).toBe('ghes-token-gateway; fwd=miss; stored');
    expect((await kv.dump()).map((e) => e.key)).toEqual([`v1:epoch:${APP.clientId}:42`]);
  });

  it('a token loaded after the revocation, even in the same millisecond, is cached normally', async () => {
    const a = harness();
    await a.cache.invalidateGrant(APP, 42);
    const load = loader(found());
    await a.cache.check(APP, token('e1'), load);
    expect((await a.cache.check(APP, token('e1'), load)).source).toBe('l1');
    expect((await otherIsolate(a).cache.check(APP, token('e1'), load)).source).toBe('kv');
    expect(load.calls).toBe(1);
  });

  it('stale-if-error never serves a token whose grant was revoked', async () => {
    const a = harness({ staleIfErrorS: 300 });
    await a.cache.check(APP, token('f1'), loader(found()));
    a.clock.advance(1);
    await a.cache.invalidateGrant(APP, 42);
    a.clock.advance(100);
    const down = failing(new GatewayError('upstream-unavailable', { upstreamStatus: 503 }));
    await expect(a.cache.check(APP, token('f1'), down)).rejects.toBeInstanceOf(GatewayError);
    await expect(
      otherIsolate(a, { staleIfErrorS: 300 }).cache.check(APP, token('f1'), down),
    ).rejects.toBeInstanceOf(GatewayError);
  });

  it('a KV failure on the epoch write is tolerated and reported', async () => {
    const a = harness();
    a.kv.failPuts = true;
    // Tolerated (no throw), and reported: false, only this isolate knows.
    await expect(a.cache.invalidateGrant(APP, 42)).resolves.toBe(false);
    expect(a.logs.events('cache.invalidation_not_replicated')).toHaveLength(1);
    expect(a.logs.events('cache.kv_error')).toHaveLength(2);
  });
});
