/**
 * Issue 12 §1 at the cache API: isolates share KV but not memory. A load on isolate A that began
 * before isolate B revoked the token, and whose positive answer arrives after B's tombstone is in
 * KV, must never make the token active again for anyone reading KV.
 */
import { describe, expect, it } from 'vitest';
import type { LoadResult } from '../../src/cache/token-cache';
import { until } from '../helpers/clock';
import { APP, deferred, found, harness, loader, otherIsolate, token } from './fixtures';

describe('a late positive from another isolate', () => {
  it('does not undo a revocation in KV (no waitUntil: A stores before answering)', async () => {
    const a = harness();
    const b = otherIsolate(a);
    const c = otherIsolate(a);
    const t = token('late-positive');
    const answer = deferred<LoadResult>();
    const slow = loader(() => answer.promise);

    const checking = a.cache.check(APP, t, slow);
    await until(() => slow.calls === 1);
    await b.cache.invalidateToken(APP, t);
    answer.resolve(found());
    // A reads the tombstone before storing: the late positive is dropped, not served.
    expect((await checking).result).toEqual({ active: false });
    expect(a.logs.events('cache.store_overtaken')).toHaveLength(1);
    expect(a.kv.puts.map((p) => p.key.split(':')[1])).toEqual(['revoked']);

    const fresh = loader(found());
    expect(await c.cache.check(APP, t, fresh)).toMatchObject({
      result: { active: false },
      source: 'kv',
    });
    expect((await a.cache.check(APP, t, fresh)).result).toEqual({ active: false });
    expect(fresh.calls).toBe(0);
  });

  it('is refused by readers even when it lands after the tombstone (the read before it missed)', async () => {
    const a = harness();
    const b = otherIsolate(a);
    const t = token('late-positive-lands');
    // A's read of the tombstone, just before its write, comes before B's revocation: A's
    // write is held once it has begun, after that read.
    const release = deferred<void>();
    a.kv.holdNextPut = release.promise;
    const checking = a.cache.check(APP, t, loader(found()));
    await until(() => a.kv.holdNextPut === undefined);
    await b.cache.invalidateToken(APP, t);
    release.resolve();
    expect((await checking).result.active).toBe(true); // concurrent with the revocation
    expect(a.kv.puts.map((p) => p.key.split(':')[1]).sort()).toEqual(['revoked', 'tok']);

    const fresh = loader(found());
    expect((await otherIsolate(a).cache.check(APP, t, fresh)).result).toEqual({ active: false });
    expect(fresh.calls).toBe(0);
  });

  it('does not undo a revocation in KV (waitUntil: the write runs after the answer)', async () => {
    const a = harness({ l1MaxEntries: 0 });
    const b = otherIsolate(a);
    const t = token('late-positive-bg');
    const answer = deferred<LoadResult>();
    const slow = loader(() => answer.promise);
    const background: Promise<unknown>[] = [];

    const checking = a.cache.check(APP, t, slow, { waitUntil: (p) => background.push(p) });
    await until(() => slow.calls === 1);
    await b.cache.invalidateToken(APP, t);
    answer.resolve(found());
    await checking;
    await Promise.all(background);

    // A keeps nothing in memory: every check reads KV.
    const fresh = loader(found());
    expect((await a.cache.check(APP, t, fresh)).result).toEqual({ active: false });
    a.clock.advance(50);
    expect((await a.cache.check(APP, t, fresh)).result).toEqual({ active: false });
    expect(fresh.calls).toBe(0);
  });
});
