/**
 * Time, as the gateway sees it. Every clock read and every timer in src/ goes through a `Clock`
 * handed in when the gateway is built, so tests run on virtual time (test/helpers/clock.ts) and
 * never on the wall clock. In workerd `Date.now()` moves only across I/O anyway.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason once `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A signal that aborts with a `TimeoutError` after `ms` (what `AbortSignal.timeout` does). */
  timeout(ms: number): AbortSignal;
  /**
   * Lets about `ms` pass on a timer of the calling request, so that what follows runs in that
   * request's own I/O context: how code waiting on another request's work looks again
   * (src/lib/single-flight.ts). Not time the logic counts: test clocks yield one macrotask and
   * move no virtual time. Rejects with the signal's reason once `signal` aborts.
   */
  pause(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The real clock: only the Worker entry (src/index.ts) picks it, never a test. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: wait,
  timeout: (ms) => AbortSignal.timeout(ms),
  pause: wait,
};

/**
 * Settles with `promise`, or with `onTimeout` once `ms` have passed on `clock`, whichever is
 * first. The timer is the clock's, so virtual time in tests moves it like any other.
 */
export async function settleWithin<T, U>(
  clock: Clock,
  promise: Promise<T>,
  ms: number,
  onTimeout: U,
): Promise<T | U> {
  const signal = clock.timeout(ms);
  if (signal.aborted) return onTimeout;
  let onAbort: () => void = () => undefined;
  const timedOut = new Promise<U>((resolve) => {
    onAbort = () => resolve(onTimeout);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
