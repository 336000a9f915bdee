import { describe, expect, it } from 'vitest';
import { createSingleFlight, SharedAttemptFailed } from '../../src/auth/single-flight';

/** A run the test settles by hand, counting how often it was started. */
function controlled<T>() {
  let starts = 0;
  let resolve: (v: T) => void = () => {};
  let reject: (e: unknown) => void = () => {};
  let markStarted: () => void = () => {};
  const started = new Promise<void>((r) => {
    markStarted = r;
  });
  const run = () => {
    starts += 1;
    markStarted();
    return new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  };
  return {
    run,
    started,
    starts: () => starts,
    resolve: (v: T) => resolve(v),
    reject: (e: unknown) => reject(e),
  };
}

const never = () => new AbortController().signal;

/** A clock that counts reads, so a test can wait until followers have polled a few times. */
function pollingClock() {
  const state = { ms: 0, reads: 0 };
  let waiter: { until: number; resolve: () => void } | undefined;
  return {
    state,
    now: () => {
      state.reads += 1;
      if (waiter !== undefined && state.reads >= waiter.until) {
        waiter.resolve();
        waiter = undefined;
      }
      return state.ms;
    },
    reads: (n: number) =>
      new Promise<void>((resolve) => {
        waiter = { until: state.reads + n, resolve };
      }),
  };
}

describe('createSingleFlight', () => {
  it('runs once for concurrent callers and hands every follower the same value', async () => {
    const clock = { ms: 0 };
    const flight = createSingleFlight<string>({
      now: () => clock.ms,
      staleAfterMs: 1000,
      pollMs: 1,
    });
    const c = controlled<string>();
    const results = Array.from({ length: 10 }, () => flight(never(), c.run));
    expect(c.starts()).toBe(1);
    c.resolve('{"keys":[]}');
    const settled = await Promise.all(results);
    expect(settled.map((r) => r.value)).toEqual(Array(10).fill('{"keys":[]}'));
    expect(settled.filter((r) => !r.shared)).toHaveLength(1);
  });

  it('starts a new run once the previous one finished', async () => {
    const flight = createSingleFlight<number>({ now: () => 0, staleAfterMs: 1000 });
    let n = 0;
    const run = async () => ++n;
    expect((await flight(never(), run)).value).toBe(1);
    expect((await flight(never(), run)).value).toBe(2);
  });

  it('fails followers of a failed run without running again', async () => {
    const flight = createSingleFlight<string>({ now: () => 0, staleAfterMs: 1000, pollMs: 1 });
    const c = controlled<string>();
    const leader = flight(never(), c.run);
    const follower = flight(never(), c.run);
    c.reject(new Error('HTTP 500'));
    await expect(leader).rejects.toThrow('HTTP 500');
    await expect(follower).rejects.toBeInstanceOf(SharedAttemptFailed);
    expect(c.starts()).toBe(1);
  });

  it('lets a follower give up on its own signal without touching the run', async () => {
    const flight = createSingleFlight<string>({ now: () => 0, staleAfterMs: 60_000, pollMs: 1 });
    const c = controlled<string>();
    void flight(never(), c.run);
    const follower = flight(AbortSignal.timeout(10), c.run);
    await expect(follower).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(c.starts()).toBe(1);
  });

  it('takes over an attempt abandoned by a cancelled request (it never settles)', async () => {
    const clock = pollingClock();
    const flight = createSingleFlight<string>({ now: clock.now, staleAfterMs: 3000, pollMs: 1 });
    const abandoned = controlled<string>();
    void flight(never(), abandoned.run);
    const fresh = controlled<string>();
    const follower = flight(never(), fresh.run);
    // The follower keeps polling the live attempt and does not start its own.
    await clock.reads(10);
    expect(fresh.starts()).toBe(0);
    clock.state.ms = 3000;
    await fresh.started;
    expect(fresh.starts()).toBe(1);
    expect(abandoned.starts()).toBe(1);
    fresh.resolve('new');
    await expect(follower).resolves.toEqual({ value: 'new', shared: false });
  });

  it('does not join a stale attempt at all', async () => {
    const clock = { ms: 0 };
    const flight = createSingleFlight<string>({ now: () => clock.ms, staleAfterMs: 3000 });
    void flight(never(), controlled<string>().run);
    clock.ms = 5000;
    await expect(flight(never(), async () => 'own')).resolves.toEqual({
      value: 'own',
      shared: false,
    });
  });
});
