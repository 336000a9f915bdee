/**
 * `mayHaveApplied` on the errors of src/ghes/request.ts: once an attempt's outcome is unknown (a
 * 5xx, a lost connection, a timeout, an unreadable 2xx), every later failure says so, whatever
 * GHES answered last. The token service (src/tokens/) invalidates on it; a later refusal (429,
 * secondary-limit 403, 401, 422) must not read as "GHES did nothing".
 */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/ghes/breaker';
import { deleteToken } from '../../src/ghes/delete-token';
import { ghesRequest, type GhesCall } from '../../src/ghes/request';
import { resetToken } from '../../src/ghes/reset-token';
import { NoContentSchema } from '../../src/ghes/types';
import {
  TOKEN,
  expectGatewayError,
  harness,
  json,
  networkError,
  reply,
  type Step,
} from './harness';

/** Headers arrive, then the connection breaks while the body is read. */
function brokenBody(status: number): Step {
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.error(new TypeError('Network connection lost.'));
        },
      }),
      { status, headers: { 'content-type': 'application/json' } },
    );
}

const DELETE: GhesCall<undefined> = {
  operation: 'delete',
  method: 'DELETE',
  path: '/token',
  logPath: '/token',
  body: { access_token: TOKEN },
  retry: 'idempotent',
  notFoundAfterAmbiguousIsSuccess: true,
  secrets: [TOKEN],
  answer: NoContentSchema,
};

/** Rate limits whose retry-after is past the 5 s deadline: passed on, not waited for. */
const limited429 = reply(429, '{"message":"API rate limit exceeded"}', {
  'retry-after': '60',
  'x-ratelimit-remaining': '0',
});
const secondary403 = reply(
  403,
  '{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}',
  { 'retry-after': '60' },
);
const primary403 = reply(403, '{"message":"API rate limit exceeded"}', {
  'x-ratelimit-remaining': '0',
  'x-ratelimit-reset': String(Math.floor(Date.UTC(2026, 0, 1, 1) / 1000)),
});

describe('a failure after an attempt whose outcome is unknown carries mayHaveApplied', () => {
  const unknownFirst: Array<[string, Step]> = [
    ['502', reply(502, '<html>bad gateway</html>')],
    ['500', json(500, { message: 'Server Error' })],
    ['a lost connection', networkError()],
  ];
  const laterRefusals: Array<[string, Step, string]> = [
    ['429', limited429, 'upstream-rate-limited'],
    ['secondary-limit 403', secondary403, 'upstream-rate-limited'],
    ['primary-limit 403', primary403, 'upstream-rate-limited'],
    ['401', json(401, { message: 'Bad credentials' }), 'upstream-credentials-rejected'],
    ['422', json(422, { message: 'Validation Failed' }), 'upstream-validation-failed'],
    ['302', reply(302, null, { location: 'https://elsewhere.test/' }), 'upstream-error'],
  ];
  for (const [firstName, first] of unknownFirst) {
    for (const [laterName, later, code] of laterRefusals) {
      it(`${firstName}, then ${laterName} → ${code} with mayHaveApplied`, async () => {
        const h = harness([first, later]);
        const err = await expectGatewayError(ghesRequest(h.ctx, DELETE), code as never);
        expect(err.mayHaveApplied).toBe(true);
        expect(h.calls).toHaveLength(2);
      });
    }
  }

  it('a 5xx on every attempt → upstream-error with mayHaveApplied', async () => {
    const h = harness([reply(503), reply(503), reply(503)]);
    const err = await expectGatewayError(deleteToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.mayHaveApplied).toBe(true);
    expect(h.calls).toHaveLength(3);
  });

  it('a 2xx whose body breaks off on every attempt → upstream-error with mayHaveApplied', async () => {
    const h = harness([brokenBody(200), brokenBody(200), brokenBody(200)]);
    const err = await expectGatewayError(deleteToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.mayHaveApplied).toBe(true);
    expect(h.calls).toHaveLength(3);
  });

  it('a 2xx whose body is not JSON → upstream-error with mayHaveApplied (GHES did answer 2xx)', async () => {
    const h = harness([reply(200, '<html>ok</html>', { 'content-type': 'text/html' })]);
    const err = await expectGatewayError(deleteToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.mayHaveApplied).toBe(true);
  });

  it('the circuit breaker opening after an ambiguous attempt still says so', async () => {
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 60_000 });
    const h = harness([reply(502)], { breaker });
    const err = await expectGatewayError(ghesRequest(h.ctx, DELETE), 'upstream-unavailable');
    expect(err.mayHaveApplied).toBe(true);
    expect(h.calls).toHaveLength(1);
  });

  it('a never-retried reset: 5xx and a lost connection are outcome-unknown with mayHaveApplied', async () => {
    for (const step of [reply(502), networkError()]) {
      const h = harness([step]);
      const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-outcome-unknown');
      expect(err.mayHaveApplied).toBe(true);
    }
  });

  it('a 404 after an ambiguous delete attempt is success, as before', async () => {
    const h = harness([reply(502), reply(404, '{"message":"Not Found"}')]);
    await expect(deleteToken(h.ctx, TOKEN)).resolves.toBeUndefined();
  });
});

describe('a refusal on the first answer does not carry mayHaveApplied', () => {
  const refusals: Array<[string, Step, string]> = [
    ['429', limited429, 'upstream-rate-limited'],
    ['secondary-limit 403', secondary403, 'upstream-rate-limited'],
    ['404', reply(404, '{"message":"Not Found"}'), 'token-not-found'],
    ['401', json(401, { message: 'Bad credentials' }), 'upstream-credentials-rejected'],
    ['422', json(422, { message: 'Validation Failed' }), 'upstream-validation-failed'],
    ['302', reply(302, null, { location: 'https://elsewhere.test/' }), 'upstream-error'],
    ['418', reply(418), 'upstream-error'],
  ];
  for (const [name, step, code] of refusals) {
    it(`${name} → ${code}, mayHaveApplied false`, async () => {
      const h = harness([step]);
      const err = await expectGatewayError(ghesRequest(h.ctx, DELETE), code as never);
      expect(err.mayHaveApplied).toBe(false);
      expect(h.calls).toHaveLength(1);
    });
  }

  it('a breaker already open: nothing was sent, mayHaveApplied false', async () => {
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 60_000 });
    breaker.onFailure(Date.UTC(2026, 0, 1));
    const h = harness([], { breaker });
    const err = await expectGatewayError(ghesRequest(h.ctx, DELETE), 'upstream-unavailable');
    expect(err.mayHaveApplied).toBe(false);
    expect(h.calls).toHaveLength(0);
  });

  it('a rate limit waited out, then a refusal: still no ambiguity', async () => {
    const short429 = reply(429, '', { 'retry-after': '1', 'x-ratelimit-remaining': '0' });
    const h = harness([short429, reply(404, '{"message":"Not Found"}')]);
    const err = await expectGatewayError(ghesRequest(h.ctx, DELETE), 'token-not-found');
    expect(err.mayHaveApplied).toBe(false);
    expect(h.calls).toHaveLength(2);
  });
});
