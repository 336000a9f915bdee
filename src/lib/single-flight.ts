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
 * And a follower is never resumed by the leader's promise (why: `follow`); it looks at the run's
 * outcome after short pauses on its own request's timers.
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
  /** The run's outcome once it settled; read by followers after their own pauses. */
  outcome: Result<T, unknown> | undefined;
  state: { forgotten: boolean };
}

const ABANDONED = Symbol('abandoned');
const FIRST_PAUSE_MS = 1;
/** Bounds what a follower adds to the run's time: at most this much after the run settles. */
const MAX_PAUSE_MS = 8;

export function createKeyedSingleFlight<T>(options: SingleFlightOptions): KeyedSingleFlight<T> {
  const { clock, staleAfterMs, onAbandoned } = options;
  const attempts = new Map<string, Attempt<T>>();

  const abandon = (key: string, attempt: Attempt<T>): void => {
    if (attempts.get(key) !== attempt) return;
    attempts.delete(key);
    onAbandoned?.(key);
  };

  /**
   * The run's outcome, ABANDONED once it is too old, or the signal's rejection. A follower looks
   * at the run's outcome after pauses of its own (1, 2, 4, then every 8 ms) and never awaits the
   * leader's promise. workerd runs a continuation in the I/O context of the event that resumed
   * it: a follower resumed by the leader's promise would go on as the leader's request and build
   * its answer there, and that answer's body, owned by a request that may already have ended,
   * fails with "Cannot perform I/O on behalf of a different request" (measured: most answers of a
   * KV-hit load with L1 off were workerd's own 500s). A pause is a timer of the follower's own
   * request, so it resumes in its own context.
   */
  const follow = async (
    joined: Attempt<T>,
    signal: AbortSignal | undefined,
  ): Promise<Result<T, unknown> | typeof ABANDONED> => {
    for (let wait = FIRST_PAUSE_MS; ; wait = Math.min(wait * 2, MAX_PAUSE_MS)) {
      await clock.pause(wait, signal);
      if (joined.outcome !== undefined) return joined.outcome;
      if (clock.now() - joined.startedAt >= staleAfterMs) return ABANDONED;
    }
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
      const mine: Attempt<T> = { startedAt: clock.now(), outcome: undefined, state };
      attempts.set(key, mine);
      // A plain field for followers to read on their own time (`follow`); set in this request.
      void running
        .then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        )
        .then((outcome) => {
          mine.outcome = outcome;
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
