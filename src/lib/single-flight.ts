/**
 * One run at a time per isolate, shared by the requests that need it at the same moment, so that
 * a burst of tokens with made-up `kid`s (or a cold isolate under load) costs one JWKS fetch, not
 * one per request.
 *
 * The rule about cancelled requests: on Workers, a promise created by one request may never
 * settle if that request is cancelled (client gone, CPU limit) — why jose turns its own fetch
 * de-duplication off on Workers (panva/jose#355, #509). So a follower waits on the shared run
 * only while it is live, bounded by its own signal and by the run's age: a run older than
 * `staleAfterMs` that never finished is treated as abandoned and the follower leads a new one.
 * Both bounds are timers of the injected clock.
 */
import type { Clock } from './clock';

export interface SingleFlightOptions {
  /** Ages runs and times the followers' waits. */
  clock: Clock;
  /** An unfinished run older than this is abandoned (its request was cancelled). */
  staleAfterMs: number;
}

export interface FlightResult<T> {
  value: T;
  /** True when another request's run produced the value. */
  shared: boolean;
}

/** A follower joined a run that failed; the leader already logged and counted the cause. */
export class SharedAttemptFailed extends Error {
  override readonly name = 'SharedAttemptFailed';
}

interface Attempt<T> {
  startedAt: number;
  /** Settles with the run; never rejects. */
  settled: Promise<{ ok: true; value: T } | { ok: false }>;
}

export type SingleFlight<T> = (
  signal: AbortSignal,
  run: () => Promise<T>,
) => Promise<FlightResult<T>>;

const ABANDONED = Symbol('abandoned');

export function createSingleFlight<T>(options: SingleFlightOptions): SingleFlight<T> {
  const { clock, staleAfterMs } = options;
  let current: Attempt<T> | undefined;

  /** The run's outcome, ABANDONED once it is too old, or the signal's rejection. */
  const follow = (joined: Attempt<T>, signal: AbortSignal) => {
    const stale = clock.timeout(joined.startedAt + staleAfterMs - clock.now());
    return new Promise<{ ok: true; value: T } | { ok: false } | typeof ABANDONED>(
      (resolve, reject) => {
        const done = (): void => {
          stale.removeEventListener('abort', onStale);
          signal.removeEventListener('abort', onAbort);
        };
        const onStale = (): void => {
          done();
          resolve(ABANDONED);
        };
        const onAbort = (): void => {
          done();
          reject(signal.reason as Error);
        };
        if (signal.aborted) return onAbort();
        if (stale.aborted) return onStale();
        stale.addEventListener('abort', onStale, { once: true });
        signal.addEventListener('abort', onAbort, { once: true });
        void joined.settled.then((outcome) => {
          done();
          resolve(outcome);
        });
      },
    );
  };

  return async function singleFlight(signal, run) {
    for (;;) {
      const joined = current;
      if (joined === undefined || clock.now() - joined.startedAt >= staleAfterMs) break;
      const outcome = await follow(joined, signal);
      if (outcome === ABANDONED) {
        if (current === joined) current = undefined;
        continue;
      }
      if (outcome.ok) return { value: outcome.value, shared: true };
      throw new SharedAttemptFailed('a concurrent run failed');
    }
    const running = run();
    const mine: Attempt<T> = {
      startedAt: clock.now(),
      settled: running.then(
        (value) => ({ ok: true as const, value }),
        () => ({ ok: false as const }),
      ),
    };
    current = mine;
    try {
      return { value: await running, shared: false };
    } finally {
      if (current === mine) current = undefined;
    }
  };
}
