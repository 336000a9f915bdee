/**
 * The circuit breaker: a pure state machine driven by a fixed clock, then the same rules seen
 * through ghesRequest with one breaker shared between calls.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, problemShape } from '../../src/lib/errors';
import { CircuitBreaker } from '../../src/ghes/breaker';
import { TestClock } from '../helpers/clock';
import { checkToken } from '../../src/ghes/check-token';
import { resetToken } from '../../src/ghes/reset-token';
import {
  T0,
  TOKEN,
  authorization,
  publicAuthorization,
  deferred,
  expectGatewayError,
  harness,
  json,
  networkError,
  reply,
  type Step,
} from './harness';

const COOLDOWN = 10_000;

function opened(threshold = 3, at = T0): CircuitBreaker {
  const b = new CircuitBreaker({ threshold, cooldownMs: COOLDOWN });
  for (let i = 0; i < threshold; i++) b.onFailure(at);
  return b;
}

describe('CircuitBreaker (pure)', () => {
  it('refuses a threshold below 1 or a negative cooldown', () => {
    expect(() => new CircuitBreaker({ threshold: 0, cooldownMs: 1000 })).toThrow(/threshold/);
    expect(() => new CircuitBreaker({ threshold: Number.NaN, cooldownMs: 1000 })).toThrow(
      /threshold/,
    );
    expect(() => new CircuitBreaker({ threshold: 1, cooldownMs: -1 })).toThrow(/cooldownMs/);
    expect(() => new CircuitBreaker({ threshold: 0, cooldownMs: 1000 })).toThrow(
      ConfigurationError,
    );
  });

  it('stays closed below the threshold and opens on the threshold-th consecutive failure', () => {
    const b = new CircuitBreaker({ threshold: 3, cooldownMs: COOLDOWN });
    b.onFailure(T0);
    b.onFailure(T0);
    expect(b.state(T0)).toBe('closed');
    expect(b.tryAcquire(T0)).toEqual({ ok: true });
    b.onFailure(T0);
    expect(b.state(T0)).toBe('open');
  });

  it('a success resets the count: failures must be consecutive', () => {
    const b = new CircuitBreaker({ threshold: 3, cooldownMs: COOLDOWN });
    b.onFailure(T0);
    b.onFailure(T0);
    b.onSuccess();
    b.onFailure(T0);
    b.onFailure(T0);
    expect(b.state(T0)).toBe('closed');
  });

  it('while open, refuses with the time left of the cooldown', () => {
    const b = opened();
    expect(b.tryAcquire(T0)).toEqual({ ok: false, error: { retryAfterMs: COOLDOWN } });
    expect(b.tryAcquire(T0 + 2_500)).toEqual({ ok: false, error: { retryAfterMs: 7_500 } });
    expect(b.state(T0 + COOLDOWN - 1)).toBe('open');
  });

  it('after the cooldown it is half-open and lets exactly one probe through', () => {
    const b = opened();
    const t = T0 + COOLDOWN;
    expect(b.state(t)).toBe('half-open');
    expect(b.tryAcquire(t)).toEqual({ ok: true });
    const second = b.tryAcquire(t);
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.error.retryAfterMs).toBeGreaterThan(0);
    expect(b.tryAcquire(t + 5_000).ok).toBe(false);
  });

  it('a successful probe closes it', () => {
    const b = opened();
    const t = T0 + COOLDOWN;
    b.tryAcquire(t);
    b.onSuccess();
    expect(b.state(t)).toBe('closed');
    expect(b.tryAcquire(t)).toEqual({ ok: true });
    expect(b.tryAcquire(t)).toEqual({ ok: true });
  });

  it('a failed probe opens it again for a full cooldown from the probe', () => {
    const b = opened();
    const t = T0 + COOLDOWN + 1_234;
    expect(b.tryAcquire(t).ok).toBe(true);
    b.onFailure(t);
    expect(b.state(t)).toBe('open');
    expect(b.tryAcquire(t)).toEqual({ ok: false, error: { retryAfterMs: COOLDOWN } });
    expect(b.state(t + COOLDOWN)).toBe('half-open');
  });

  it('a failed probe reopens it even when the threshold is higher than one', () => {
    const b = opened(5);
    const t = T0 + COOLDOWN;
    b.tryAcquire(t);
    b.onFailure(t);
    expect(b.state(t)).toBe('open');
  });

  it('neutral outcomes (404, 422) neither count as failures nor open it', () => {
    const b = new CircuitBreaker({ threshold: 2, cooldownMs: COOLDOWN });
    b.onFailure(T0);
    for (let i = 0; i < 10; i++) b.onNeutral();
    expect(b.state(T0)).toBe('closed');
  });

  it('a neutral probe frees the probe slot: GHES answered, so it is healthy', () => {
    const b = opened();
    const t = T0 + COOLDOWN;
    b.tryAcquire(t);
    b.onNeutral();
    expect(b.state(t)).toBe('closed');
    expect(b.tryAcquire(t)).toEqual({ ok: true });
  });

  it('a zero cooldown goes straight to half-open', () => {
    const b = new CircuitBreaker({ threshold: 1, cooldownMs: 0 });
    b.onFailure(T0);
    expect(b.state(T0)).toBe('half-open');
    expect(b.tryAcquire(T0).ok).toBe(true);
    expect(b.tryAcquire(T0).ok).toBe(false);
  });
});

describe('CircuitBreaker through ghesRequest', () => {
  /** A shared breaker and clock, and a fresh harness per call, as requests in one isolate. */
  function isolate(threshold = 3) {
    const breaker = new CircuitBreaker({ threshold, cooldownMs: COOLDOWN });
    const clock = new TestClock(T0);
    const call = (steps: Step[]) => harness(steps, { breaker, clock });
    return { breaker, clock, call };
  }

  async function open(iso: ReturnType<typeof isolate>): Promise<void> {
    // A never-retried call fails once per call: three of them reach the threshold.
    for (let i = 0; i < 3; i++) {
      const h = iso.call([reply(503)]);
      await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-outcome-unknown');
    }
    expect(iso.breaker.state(iso.clock.ms)).toBe('open');
  }

  it('opens after threshold consecutive failures, then answers without calling GHES', async () => {
    const iso = isolate();
    await open(iso);
    iso.clock.ms += 2_500;
    const h = iso.call([json(200, authorization())]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-unavailable');
    expect(problemShape(err.code).status).toBe(503);
    expect(err.headers['retry-after']).toBe('8'); // 7.5 s left, rounded up
    expect(h.calls).toHaveLength(0);
  });

  it('retries of one call count as failures too', async () => {
    const iso = isolate();
    const h = iso.call([reply(500), networkError(), reply(502)]);
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(h.calls).toHaveLength(3);
    expect(iso.breaker.state(iso.clock.ms)).toBe('open');
  });

  it('a retry that finds the breaker open stops at once', async () => {
    const iso = isolate(1);
    const h = iso.call([reply(500), json(200, authorization())]);
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-unavailable');
    expect(h.calls).toHaveLength(1);
  });

  it('half-open lets exactly one probe through; its success closes the breaker', async () => {
    const iso = isolate();
    await open(iso);
    iso.clock.ms += COOLDOWN;

    const held = deferred();
    const probe = iso.call([held.step]);
    const probing = checkToken(probe.ctx, TOKEN);
    await held.started;

    const other = iso.call([json(200, authorization())]);
    await expectGatewayError(checkToken(other.ctx, TOKEN), 'upstream-unavailable');
    expect(other.calls).toHaveLength(0);

    held.release(json(200, authorization()));
    await expect(probing).resolves.toEqual(publicAuthorization());
    expect(iso.breaker.state(iso.clock.ms)).toBe('closed');

    const after = iso.call([json(200, authorization())]);
    await expect(checkToken(after.ctx, TOKEN)).resolves.toEqual(publicAuthorization());
    expect(after.calls).toHaveLength(1);
  });

  it('a failed probe reopens the breaker', async () => {
    const iso = isolate();
    await open(iso);
    iso.clock.ms += COOLDOWN;
    const probe = iso.call([reply(500)]);
    await expectGatewayError(resetToken(probe.ctx, TOKEN), 'upstream-outcome-unknown');
    expect(probe.calls).toHaveLength(1);
    const next = iso.call([json(200, authorization())]);
    const err = await expectGatewayError(checkToken(next.ctx, TOKEN), 'upstream-unavailable');
    expect(err.headers['retry-after']).toBe(String(COOLDOWN / 1000));
    expect(next.calls).toHaveLength(0);
  });

  it.each([
    [404, 'token-not-found'],
    [422, 'upstream-validation-failed'],
  ] as const)('a %i is neutral: it never opens the breaker', async (status, code) => {
    const iso = isolate(2);
    const failing = iso.call([reply(503)]);
    await expectGatewayError(resetToken(failing.ctx, TOKEN), 'upstream-outcome-unknown');
    for (let i = 0; i < 5; i++) {
      const h = iso.call([json(status, { message: 'x' })]);
      await expectGatewayError(checkToken(h.ctx, TOKEN), code);
      expect(h.calls).toHaveLength(1);
    }
    expect(iso.breaker.state(iso.clock.ms)).toBe('closed');
  });

  it('a 404 probe closes a half-open breaker', async () => {
    const iso = isolate();
    await open(iso);
    iso.clock.ms += COOLDOWN;
    const probe = iso.call([json(404, { message: 'Not Found' })]);
    await expectGatewayError(checkToken(probe.ctx, TOKEN), 'token-not-found');
    expect(iso.breaker.state(iso.clock.ms)).toBe('closed');
  });

  it('a success resets the count: failures must be consecutive across calls', async () => {
    const iso = isolate(2);
    const a = iso.call([reply(503)]);
    await expectGatewayError(resetToken(a.ctx, TOKEN), 'upstream-outcome-unknown');
    const b = iso.call([json(200, authorization())]);
    await checkToken(b.ctx, TOKEN);
    const c = iso.call([reply(503)]);
    await expectGatewayError(resetToken(c.ctx, TOKEN), 'upstream-outcome-unknown');
    expect(iso.breaker.state(iso.clock.ms)).toBe('closed');
  });
});
