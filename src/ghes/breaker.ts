/**
 * A per-GHES-host circuit breaker (per isolate). After `threshold` consecutive failures it opens
 * and answers without calling GHES for `cooldownMs`; then it lets exactly one probe through
 * (half-open). A success closes it, a failed probe opens it again.
 *
 * Pure state machine: every method takes `now` (ms) so tests drive it with a fixed clock.
 * Only failures that say GHES itself is unwell count (network errors, timeouts, 5xx); a 404 or
 * 422 is a healthy GHES answering about a token.
 */
import { ConfigurationError } from '../lib/errors';
import { err, ok, type Result } from '../lib/result';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  threshold: number;
  cooldownMs: number;
}

export class CircuitBreaker {
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #probeInFlight = false;

  constructor(readonly options: BreakerOptions) {
    if (!(options.threshold >= 1)) {
      throw new ConfigurationError('CircuitBreaker.threshold', 'must be ≥ 1');
    }
    if (!(options.cooldownMs >= 0)) {
      throw new ConfigurationError('CircuitBreaker.cooldownMs', 'must be ≥ 0');
    }
  }

  state(now: number): BreakerState {
    if (this.#state === 'open' && now - this.#openedAt >= this.options.cooldownMs)
      return 'half-open';
    return this.#state;
  }

  /** Whether a call may go to GHES now. In half-open state only one probe at a time is let through. */
  tryAcquire(now: number): Result<void, { retryAfterMs: number }> {
    const state = this.state(now);
    if (state === 'closed') return ok(undefined);
    if (state === 'half-open' && !this.#probeInFlight) {
      this.#state = 'half-open';
      this.#probeInFlight = true;
      return ok(undefined);
    }
    const retryAfterMs = Math.max(0, this.#openedAt + this.options.cooldownMs - now);
    return err({ retryAfterMs: retryAfterMs === 0 ? this.options.cooldownMs : retryAfterMs });
  }

  onSuccess(): void {
    this.#failures = 0;
    this.#state = 'closed';
    this.#probeInFlight = false;
  }

  onFailure(now: number): void {
    this.#probeInFlight = false;
    this.#failures += 1;
    if (this.#state === 'half-open' || this.#failures >= this.options.threshold) {
      this.#state = 'open';
      this.#openedAt = now;
    }
  }

  /** A call that ended with neither verdict (e.g. 404, 422): frees the probe slot. */
  onNeutral(): void {
    if (this.#state === 'half-open') this.onSuccess();
  }
}
