/**
 * One run at a time per key and isolate, shared by the requests that need it at the same moment:
 * a burst of tokens with made-up `kid`s costs one JWKS fetch (src/auth/remote-jwks.ts), and a
 * burst of checks of one token costs one GHES check (src/cache/token-cache.ts).
 *
 * The rule about cancelled requests: on Workers, a promise created by one request may never
 * settle if that request is cancelled (client gone, CPU limit) — why jose turns its own fetch
 * de-duplication off on Workers (panva/jose#355, #509). So a follower waits on the shared run
 * only while it is live, bounded by its own signal and by the run's age: a run older than
 * `staleAfterMs` that never finished is treated as abandoned and the follower leads a new one.
 * Both bounds are timers of the injected clock; nothing polls.
 */
import type { Clock } from './clock';
import type { Result } from './result';

export interface SingleFlightOptions {
  /** Ages runs and times the followers' waits. */
  clock: Clock;
  /** An unfinished run older than this is abandoned (its request was cancelled). */
  staleAfterMs: number;
  /** Called once per run found abandoned, before a follower leads a new one. */
  onAbandoned?: (key: string) => void;
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

/**
 * What a run can read of itself: `forgotten` turns true when the run is `forget`-ten, because
 * whoever forgot it decided that its outcome is out of date (the cache's token revocation).
 * A plain flag, not an AbortSignal: the run belongs to one request and `forget` is called by
 * another, and workerd refuses to let one request abort an AbortController created by another
 * ("Cannot perform I/O on behalf of a different request", I/O type RefcountedCanceler).
 */
export interface RunState {
  readonly forgotten: boolean;
}

export type Run<T> = (state: RunState) => Promise<T>;

export interface KeyedSingleFlight<T> {
  /** Join the live run for `key`, or lead a new one. `signal` bounds this caller's wait. */
  run(key: string, signal: AbortSignal | undefined, run: Run<T>): Promise<FlightResult<T>>;
  /** The next caller for `key` leads a new run; the old one's `forgotten` turns true. */
  forget(key: string): void;
  /** Runs in progress. */
  readonly size: number;
}

interface Attempt<T> {
  startedAt: number;
  /** Settles with the run; never rejects. */
  settled: Promise<Result<T, unknown>>;
  state: { forgotten: boolean };
}

const ABANDONED = Symbol('abandoned');

export function createKeyedSingleFlight<T>(options: SingleFlightOptions): KeyedSingleFlight<T> {
  const { clock, staleAfterMs, onAbandoned } = options;
  const attempts = new Map<string, Attempt<T>>();

  const abandon = (key: string, attempt: Attempt<T>): void => {
    if (attempts.get(key) !== attempt) return;
    attempts.delete(key);
    onAbandoned?.(key);
  };

  /** The run's outcome, ABANDONED once it is too old, or the signal's rejection. */
  const follow = (joined: Attempt<T>, signal: AbortSignal | undefined) => {
    const stale = clock.timeout(joined.startedAt + staleAfterMs - clock.now());
    return new Promise<Result<T, unknown> | typeof ABANDONED>((resolve, reject) => {
      const done = (): void => {
        stale.removeEventListener('abort', onStale);
        signal?.removeEventListener('abort', onAbort);
      };
      const onStale = (): void => {
        done();
        resolve(ABANDONED);
      };
      const onAbort = (): void => {
        done();
        reject((signal as AbortSignal).reason as Error);
      };
      if (signal?.aborted === true) return onAbort();
      if (stale.aborted) return onStale();
      stale.addEventListener('abort', onStale, { once: true });
      signal?.addEventListener('abort', onAbort, { once: true });
      void joined.settled.then((outcome) => {
        done();
        resolve(outcome);
      });
    });
  };

  return {
    async run(key, signal, run) {
      for (;;) {
        const joined = attempts.get(key);
        if (joined === undefined) break;
        if (clock.now() - joined.startedAt >= staleAfterMs) {
          abandon(key, joined);
          break;
        }
        const outcome = await follow(joined, signal);
        if (outcome === ABANDONED) {
          abandon(key, joined);
          continue;
        }
        if (outcome.ok) return { value: outcome.value, shared: true };
        throw new SharedAttemptFailed('a concurrent run failed', { cause: outcome.error });
      }
      const state = { forgotten: false };
      const running = run(state);
      const mine: Attempt<T> = {
        startedAt: clock.now(),
        settled: running.then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
        state,
      };
      attempts.set(key, mine);
      void mine.settled.then(() => {
        if (attempts.get(key) === mine) attempts.delete(key);
      });
      return { value: await running, shared: false };
    },
    forget(key) {
      const attempt = attempts.get(key);
      if (attempt === undefined) return;
      attempts.delete(key);
      attempt.state.forgotten = true;
    },
    get size() {
      return attempts.size;
    },
  };
}

export type SingleFlight<T> = (
  signal: AbortSignal,
  run: () => Promise<T>,
) => Promise<FlightResult<T>>;

/** One run at a time, for a single resource (one key). */
export function createSingleFlight<T>(options: SingleFlightOptions): SingleFlight<T> {
  const flights = createKeyedSingleFlight<T>(options);
  return (signal, run) => flights.run('', signal, run);
}
