/**
 * One remote key-set fetch at a time per isolate, shared by the requests that need it at the same
 * moment, so that a burst of tokens with made-up `kid`s (or a cold isolate under load) costs one
 * fetch, not one per request.
 *
 * Why followers poll instead of awaiting the leader's promise: on Workers a request must not wait
 * on a promise that another request settles. If the leading request is cancelled (client gone,
 * CPU limit), its promise never settles and every waiter would hang; that is why jose turns its
 * own fetch de-duplication off on Workers (panva/jose#355, #509). Here the shared state is a plain
 * record, and each follower checks it on its own timer, bounded by its own abort signal. An attempt
 * older than `staleAfterMs` that never finished is treated as abandoned and a follower takes over.
 */

export interface SingleFlightOptions {
  /** Clock in ms. */
  now: () => number;
  /** An unfinished attempt older than this is abandoned (its request was cancelled). */
  staleAfterMs: number;
  /** How often a follower looks at the shared attempt. Default 5 ms. */
  pollMs?: number;
}

export interface FlightResult<T> {
  value: T;
  /** True when another request's attempt produced the value. */
  shared: boolean;
}

/** A follower joined an attempt that failed; the leader already logged and counted the cause. */
export class SharedAttemptFailed extends Error {
  override readonly name = 'SharedAttemptFailed';
}

interface Attempt<T> {
  startedAt: number;
  done: boolean;
  ok: boolean;
  value?: T;
}

export type SingleFlight<T> = (
  signal: AbortSignal,
  run: () => Promise<T>,
) => Promise<FlightResult<T>>;

export function createSingleFlight<T>(options: SingleFlightOptions): SingleFlight<T> {
  const { now, staleAfterMs } = options;
  const pollMs = options.pollMs ?? 5;
  let current: Attempt<T> | undefined;

  const live = (a: Attempt<T>) => !a.done && now() - a.startedAt < staleAfterMs;

  return async function singleFlight(signal, run) {
    for (;;) {
      const joined = current;
      if (joined === undefined || !live(joined)) break;
      while (live(joined)) await pause(pollMs, signal);
      if (joined.done) {
        if (joined.ok) return { value: joined.value as T, shared: true };
        throw new SharedAttemptFailed('a concurrent fetch of the key set failed');
      }
      // Abandoned: loop, and lead a new attempt unless another follower already does.
    }
    const mine: Attempt<T> = { startedAt: now(), done: false, ok: false };
    current = mine;
    try {
      const value = await run();
      mine.value = value;
      mine.ok = true;
      return { value, shared: false };
    } finally {
      mine.done = true;
      if (current === mine) current = undefined;
    }
  };
}

/** Waits `ms` on this request's own timer; rejects with the signal's reason once it aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
