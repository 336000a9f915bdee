/**
 * A revocation that lands while a load's positive answer is being written: the load must not
 * answer "active" (src/cache/flight.ts, the `revoked` check after `store`). Without
 * `waitUntil` the store waits for KV, which is the window tested here; the held KV write orders
 * the steps, no timing involved.
 */
import { describe, expect, it } from 'vitest';
import { decodeValue } from '../../src/cache/entry';
import { APP, deferred, found, harness, loader, otherIsolate, token } from './fixtures';

describe('invalidateToken while the loaded answer is being stored', () => {
  it('the load answers inactive, and only the tombstone remains', async () => {
    const h = harness();
    const { cache, kv } = h;
    const t = token('store-race');
    const hold = deferred<void>();
    const writing = deferred<void>();
    kv.holdNextPut = hold.promise;
    kv.onPut = () => writing.resolve();

    const load = loader(found());
    const pending = cache.check(APP, t, load);
    await writing.promise; // GHES answered; the positive entry is on its way to KV
    kv.onPut = undefined;

    const revoking = cache.invalidateToken(APP, t);
    // The revocation marks the running load as it takes it out of the in-flight map. Each
    // round trip below is an HMAC, so the revocation's own HMAC gets to finish first.
    for (let i = 0; cache.stats().inflight > 0; i++) {
      if (i > 100) throw new Error('the revocation never reached the running load');
      await cache.tokenId(APP, t);
    }
    hold.resolve();

    const outcome = await pending;
    await revoking;
    expect(outcome).toMatchObject({ result: { active: false }, freshForS: 0, source: 'ghes' });
    // Worded as an unknown token's miss would be: an inactive answer never says why
    // (src/cache/cache-status.ts inactiveCacheStatus).
    expect(outcome.cacheStatus).toBe('ghes-token-gateway; fwd=miss; stored');
    expect(load.calls).toBe(1);

    const after = loader(found());
    expect(await cache.check(APP, t, after)).toMatchObject({
      result: { active: false },
      source: 'l1',
    });
    expect(after.calls).toBe(0);
    // The held positive landed too, beside the tombstone (its own key) and never over it.
    const kinds = (await kv.dump()).map((e) => {
      const v = decodeValue(e.value);
      return [e.key.split(':')[1], v.ok && v.value.kind];
    });
    expect(kinds.sort()).toEqual([
      ['revoked', 'revoked'],
      ['tok', 'positive'],
    ]);
    const elsewhere = loader(found());
    expect(await otherIsolate(h).cache.check(APP, t, elsewhere)).toMatchObject({
      result: { active: false },
      source: 'kv',
    });
    expect(elsewhere.calls).toBe(0);
  });
});
