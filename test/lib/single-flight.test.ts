import { describe, expect, it } from 'vitest';
import {
  createKeyedSingleFlight,
  createSingleFlight,
  SharedAttemptFailed,
  type RunState,
} from '../../src/lib/single-flight';
import { TestClock, yieldTurns } from '../helpers/clock';

/** A run the test settles by hand, counting how often it was started. */
function controlled<T>() {
  let starts = 0;
  let resolve: (v: T) => void = () => {};
  let reject: (e: unknown) => void = () => {};
  const run = () => {
    starts += 1;
    return new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  };
  return {
    run,
    starts: () => starts,
    resolve: (v: T) => resolve(v),
    reject: (e: unknown) => reject(e),
  };
}

const never = () => new AbortController().signal;

/** Lets queued promise callbacks run (no timer involved). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('createSingleFlight', () => {
  it('runs once for concurrent callers and hands every follower the same value', async () => {
    const flight = createSingleFlight<string>({ clock: new TestClock(0), staleAfterMs: 1000 });
    const c = controlled<string>();
    const results = Array.from({ length: 10 }, () => flight(never(), c.run));
    await flush();
    expect(c.starts()).toBe(1);
    c.resolve('{"keys":[]}');
    const settled = await Promise.all(results);
    expect(settled.map((r) => r.value)).toEqual(Array(10).fill('{"keys":[]}'));
    expect(settled.filter((r) => !r.shared)).toHaveLength(1);
  });

  it('starts a new run once the previous one finished', async () => {
    const flight = createSingleFlight<number>({ clock: new TestClock(0), staleAfterMs: 1000 });
    let n = 0;
    const run = async () => ++n;
    expect((await flight(never(), run)).value).toBe(1);
    expect((await flight(never(), run)).value).toBe(2);
  });

  it('fails followers of a failed run without running again', async () => {
    const flight = createSingleFlight<string>({ clock: new TestClock(0), staleAfterMs: 1000 });
    const c = controlled<string>();
    const leader = flight(never(), c.run);
    const follower = flight(never(), c.run);
    c.reject(new Error('HTTP 500'));
    await expect(leader).rejects.toThrow('HTTP 500');
    await expect(follower).rejects.toBeInstanceOf(SharedAttemptFailed);
    expect(c.starts()).toBe(1);
  });

  it('lets a follower give up on its own signal without touching the run', async () => {
    const clock = new TestClock(0);
    const flight = createSingleFlight<string>({ clock, staleAfterMs: 60_000 });
    const c = controlled<string>();
    void flight(never(), c.run);
    const follower = flight(clock.timeout(10), c.run);
    let settled = false;
    void follower.catch(() => undefined).finally(() => (settled = true));
    clock.advanceMs(9);
    await flush();
    expect(settled).toBe(false);
    clock.advanceMs(1);
    await expect(follower).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(c.starts()).toBe(1);
  });

  it('takes over a run abandoned by a cancelled request (it never settles) once it is stale', async () => {
    const clock = new TestClock(0);
    const flight = createSingleFlight<string>({ clock, staleAfterMs: 3000 });
    const abandoned = controlled<string>();
    void flight(never(), abandoned.run);
    const fresh = controlled<string>();
    const follower = flight(never(), fresh.run);
    // The follower waits on the live run and does not start its own, up to the last millisecond;
    // it notices at its next pause.
    clock.advanceMs(2999);
    await yieldTurns();
    expect(fresh.starts()).toBe(0);
    clock.advanceMs(1);
    await yieldTurns();
    expect(fresh.starts()).toBe(1);
    expect(abandoned.starts()).toBe(1);
    fresh.resolve('new');
    await expect(follower).resolves.toEqual({ value: 'new', shared: false });
  });

  it('does not join a stale run at all', async () => {
    const clock = new TestClock(0);
    const flight = createSingleFlight<string>({ clock, staleAfterMs: 3000 });
    void flight(never(), controlled<string>().run);
    clock.advanceMs(5000);
    const fresh = controlled<string>();
    const mine = flight(never(), fresh.run);
    await flush();
    expect(fresh.starts()).toBe(1);
    fresh.resolve('v');
    await expect(mine).resolves.toEqual({ value: 'v', shared: false });
  });

  it('a follower that joined before a run went stale shares its value if it settles in time', async () => {
    const clock = new TestClock(0);
    const flight = createSingleFlight<string>({ clock, staleAfterMs: 3000 });
    const c = controlled<string>();
    void flight(never(), c.run);
    const follower = flight(never(), c.run);
    clock.advanceMs(2000);
    c.resolve('late but live');
    await expect(follower).resolves.toEqual({ value: 'late but live', shared: true });
    expect(c.starts()).toBe(1);
  });
});

describe('listeners', () => {
  /** A signal that counts the listeners attached to it and still attached. */
  function countingSignal() {
    const controller = new AbortController();
    const signal = controller.signal;
    let live = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      live++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
      live--;
      remove(...args);
    }) as AbortSignal['removeEventListener'];
    return { signal, live: () => live };
  }

  it('a follower leaves no listener on its signal once the shared run settles', async () => {
    const flight = createSingleFlight<string>({ clock: new TestClock(0), staleAfterMs: 1000 });
    const c = controlled<string>();
    void flight(never(), c.run);
    const follower = countingSignal();
    const shared = flight(follower.signal, c.run);
    await flush();
    expect(follower.live()).toBe(1);
    c.resolve('v');
    await expect(shared).resolves.toEqual({ value: 'v', shared: true });
    expect(follower.live()).toBe(0);
  });
});

describe('createKeyedSingleFlight', () => {
  it('runs each key on its own: one run per key, not one overall', async () => {
    const flights = createKeyedSingleFlight<string>({
      clock: new TestClock(0),
      staleAfterMs: 1000,
    });
    const a = controlled<string>();
    const b = controlled<string>();
    const a1 = flights.run('a', undefined, a.run);
    const a2 = flights.run('a', undefined, a.run);
    const b1 = flights.run('b', undefined, b.run);
    await flush();
    expect([a.starts(), b.starts(), flights.size]).toEqual([1, 1, 2]);
    a.resolve('A');
    b.resolve('B');
    expect(await Promise.all([a1, a2, b1])).toEqual([
      { value: 'A', shared: false },
      { value: 'A', shared: true },
      { value: 'B', shared: false },
    ]);
    await flush();
    expect(flights.size).toBe(0);
  });

  it('hands followers of a failed run the cause, once as SharedAttemptFailed', async () => {
    const flights = createKeyedSingleFlight<string>({
      clock: new TestClock(0),
      staleAfterMs: 1000,
    });
    const c = controlled<string>();
    const cause = new Error('HTTP 503');
    const leader = flights.run('k', undefined, c.run);
    const follower = flights.run('k', undefined, c.run);
    c.reject(cause);
    await expect(leader).rejects.toBe(cause);
    await expect(follower).rejects.toMatchObject({ name: 'SharedAttemptFailed', cause });
  });

  it('forget: the run learns it is out of date, waiters keep it, the next caller leads anew', async () => {
    const flights = createKeyedSingleFlight<string>({
      clock: new TestClock(0),
      staleAfterMs: 1000,
    });
    let forgotten: RunState | undefined;
    const old = controlled<string>();
    const leader = flights.run('k', undefined, (signal) => ((forgotten = signal), old.run()));
    const waiter = flights.run('k', undefined, old.run);
    await flush();
    expect(forgotten?.forgotten).toBe(false);
    flights.forget('k');
    expect(forgotten?.forgotten).toBe(true);
    expect(flights.size).toBe(0);
    const fresh = controlled<string>();
    const after = flights.run('k', undefined, fresh.run);
    await flush();
    expect(fresh.starts()).toBe(1);
    old.resolve('old');
    fresh.resolve('new');
    expect(await Promise.all([leader, waiter, after])).toEqual([
      { value: 'old', shared: false },
      { value: 'old', shared: true },
      { value: 'new', shared: false },
    ]);
  });

  it('reports an abandoned run once, however many followers find it', async () => {
    const clock = new TestClock(0);
    const abandoned: string[] = [];
    const flights = createKeyedSingleFlight<string>({
      clock,
      staleAfterMs: 3000,
      onAbandoned: (key) => abandoned.push(key),
    });
    void flights.run('k', undefined, controlled<string>().run);
    const fresh = controlled<string>();
    const followers = [
      flights.run('k', undefined, fresh.run),
      flights.run('k', undefined, fresh.run),
    ];
    clock.advanceMs(3000);
    await yieldTurns();
    expect(abandoned).toEqual(['k']);
    expect(fresh.starts()).toBe(1);
    fresh.resolve('v');
    expect((await Promise.all(followers)).map((r) => r.shared).sort()).toEqual([false, true]);
  });
});

describe('followers resume on their own time (workerd I/O contexts)', () => {
  /** A clock whose pauses the test releases, counting them. */
  function heldClock() {
    const clock = new TestClock(0);
    const held: Array<() => void> = [];
    clock.pause = () => new Promise<void>((resolve) => held.push(resolve));
    return {
      clock,
      pauses: () => held.length,
      release: () => held.splice(0).forEach((resume) => resume()),
    };
  }

  it('a follower is never resumed by the run itself: only by a pause of its own', async () => {
    const { clock, pauses, release } = heldClock();
    const flights = createKeyedSingleFlight<string>({ clock, staleAfterMs: 1000 });
    const c = controlled<string>();
    const leader = flights.run('k', undefined, c.run);
    let followed: unknown;
    const follower = flights.run('k', undefined, c.run).then((r) => (followed = r));
    await flush();
    expect(pauses()).toBe(1);
    c.resolve('v');
    await expect(leader).resolves.toEqual({ value: 'v', shared: false });
    await flush();
    // Settling the run resumed the leader; the follower is still inside its own pause.
    expect(followed).toBeUndefined();
    release();
    await follower;
    expect(followed).toEqual({ value: 'v', shared: true });
    expect(c.starts()).toBe(1);
  });

  it('pauses grow from 1 ms to at most 8 ms while the run is live', async () => {
    const clock = new TestClock(0);
    const asked: number[] = [];
    const pause = clock.pause;
    clock.pause = (ms, signal) => (asked.push(ms), pause(ms, signal));
    const flights = createKeyedSingleFlight<string>({ clock, staleAfterMs: 60_000 });
    const c = controlled<string>();
    void flights.run('k', undefined, c.run);
    const follower = flights.run('k', undefined, c.run);
    await yieldTurns(8);
    c.resolve('v');
    await expect(follower).resolves.toEqual({ value: 'v', shared: true });
    expect(asked.slice(0, 6)).toEqual([1, 2, 4, 8, 8, 8]);
    expect(Math.max(...asked)).toBe(8);
  });
});
