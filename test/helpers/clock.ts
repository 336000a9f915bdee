/**
 * Virtual time for tests: the one `Clock` (src/lib/clock.ts) that the gateway, its cache, its
 * GHES client and the GHES emulator share. Nothing here reads the wall clock or waits on a real
 * timer (test/setup.ts fails any test that does).
 *
 * - `timeout(ms)` is a timer: it fires when virtual time reaches it.
 * - `sleep(ms)` is time passing: the clock moves `ms` at once, firing every timer due on the
 *   way (in order), so a retry back-off or GHES latency costs no real time.
 * - `sleep(Infinity, signal)` is a hang: time runs timer by timer until `signal` aborts (a
 *   per-attempt timeout, say); with no timer left it stays pending, as a real hang would.
 * - `advance(s)` / `advanceMs(ms)` move time from the test itself.
 */
import { systemClock, type Clock } from '../../src/lib/clock';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

export class TestClock implements Clock {
  /** Every `sleep(ms)` asked for, in order (hangs are not listed). */
  readonly sleeps: number[] = [];
  #timers: Timer[] = [];
  #seq = 0;

  constructor(public ms: number) {}

  now = (): number => this.ms;

  /** Moves time forward by whole or fractional seconds, firing timers due on the way. */
  advance(seconds: number): void {
    this.advanceMs(seconds * 1000);
  }

  advanceMs(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('time only moves forward');
    this.#runUntil(this.ms + ms);
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  timeout = (ms: number): AbortSignal => {
    const controller = new AbortController();
    this.#schedule(this.ms + Math.max(0, ms), () =>
      controller.abort(new DOMException('The operation timed out.', 'TimeoutError')),
    );
    return controller.signal;
  };

  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    if (ms !== Number.POSITIVE_INFINITY) this.sleeps.push(ms);
    return this.elapse(ms, signal);
  };

  /**
   * A pause of the calling request (src/lib/clock.ts): one zero-delay macrotask, so other work —
   * the run a follower waits on, KV — gets to run; no virtual time passes.
   */
  pause = (_ms: number, signal?: AbortSignal): Promise<void> => systemClock.pause(0, signal);

  /** `sleep` without being listed in `sleeps`: time passing elsewhere (GHES's own latency). */
  elapse = (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (ms === Number.POSITIVE_INFINITY) return this.#hang(signal);
    // Time passes only until the signal aborts: a 5 s GHES latency cut by a 100 ms timeout ends at 100.
    this.#runUntil(this.ms + Math.max(0, ms), signal);
    return signal?.aborted ? Promise.reject(abortReason(signal)) : Promise.resolve();
  };

  #hang(signal: AbortSignal | undefined): Promise<void> {
    while (signal?.aborted !== true) {
      const next = this.#timers[0];
      if (next === undefined) break;
      this.#runUntil(next.at);
    }
    if (signal === undefined) return new Promise<void>(() => undefined);
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((_, reject) =>
      signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true }),
    );
  }

  #schedule(at: number, fire: () => void): void {
    this.#timers.push({ at, seq: this.#seq++, fire });
    this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  #runUntil(target: number, signal?: AbortSignal): void {
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#timers.shift();
      if (next.at > this.ms) this.ms = next.at;
      next.fire();
      if (signal?.aborted) return;
    }
    if (target > this.ms) this.ms = target;
  }
}

/**
 * Lets other work run (promise callbacks and I/O such as KV) until `cond` holds, yielding with
 * zero-delay macrotasks: no time passes, virtual or real. Fails after `turns` yields.
 */
export async function until(cond: () => boolean, turns = 500): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await new Promise((r) => setTimeout(r, 0));
  if (!cond()) throw new Error(`until: condition still false after ${turns} turns`);
}

/** Yields `n` zero-delay macrotasks, so pending promise callbacks and I/O get to run. */
export async function yieldTurns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
}
