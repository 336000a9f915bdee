/**
 * The shared request helper (src/ghes/request.ts): which failures are retried, within which
 * deadline. Idempotent behaviour is shown through `checkToken`, the
 * never-retry behaviour through `resetToken`; both are thin wrappers over `ghesRequest`.
 */
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/lib/errors';
import { deleteGrant } from '../../src/ghes/delete-grant';
import { deleteToken } from '../../src/ghes/delete-token';
import { checkToken } from '../../src/ghes/check-token';
import { basicAuth, ghesRequest, type GhesCall } from '../../src/ghes/request';
import { resetToken } from '../../src/ghes/reset-token';
import {
  authorizationOf,
  NoContentSchema,
  toPublicAuthorization,
  type PublicAuthorization,
} from '../../src/ghes/types';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  TOKEN,
  authorization,
  publicAuthorization,
  expectGatewayError,
  expectedBasic,
  hang,
  harness,
  json,
  networkError,
  reply,
  type Step,
} from './harness';

const CHECK: GhesCall<PublicAuthorization> = {
  operation: 'check',
  method: 'POST',
  path: '/token',
  logPath: '/token',
  body: { access_token: TOKEN },
  retry: 'idempotent',
  secrets: [TOKEN],
  answer: authorizationOf(CLIENT_ID),
};

const DELETE: GhesCall<undefined> = {
  ...CHECK,
  operation: 'delete',
  method: 'DELETE',
  answer: NoContentSchema,
};

describe('basicAuth', () => {
  it('is "Basic " + base64(client_id:client_secret) (RFC 7617 §2)', () => {
    expect(basicAuth(CLIENT_ID, CLIENT_SECRET)).toBe(expectedBasic(CLIENT_ID, CLIENT_SECRET));
    expect(basicAuth('Aladdin', 'open sesame')).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });
});

describe('success', () => {
  it('a 2xx JSON answer is parsed and returned with status, headers and attempt count', async () => {
    const h = harness([json(200, authorization(), { 'x-github-request-id': 'ABCD:1234' })]);
    const res = await ghesRequest(h.ctx, CHECK);
    expect(res.status).toBe(200);
    expect(res.data).toEqual(toPublicAuthorization(authorization()));
    expect(res.headers.get('x-github-request-id')).toBe('ABCD:1234');
    expect(res.attempts).toBe(1);
  });

  it('a 204 with an empty body resolves with no data', async () => {
    const h = harness([reply(204)]);
    const res = await ghesRequest(h.ctx, DELETE);
    expect(res.status).toBe(204);
    expect(res.data).toBeUndefined();
  });

  it('a 2xx that is not JSON is upstream-error', async () => {
    const h = harness([reply(200, '<html>Sign in</html>', { 'content-type': 'text/html' })]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.upstreamStatus).toBe(200);
    expect(err.detail).not.toContain('Sign in');
  });

  it('sends the GitHub REST API version header', async () => {
    const h = harness([json(200, authorization())]);
    await checkToken(h.ctx, TOKEN);
    expect(h.calls[0]?.headers['x-github-api-version']).toBe('2022-11-28');
  });
});

describe('retries of idempotent calls', () => {
  it('network errors are retried at most twice more, with growing backoff', async () => {
    const h = harness([networkError(), networkError(), json(200, authorization())]);
    await expect(checkToken(h.ctx, TOKEN)).resolves.toEqual(publicAuthorization());
    expect(h.calls).toHaveLength(3);
    expect(h.waits).toHaveLength(2);
    const [first, second] = h.waits as [number, number];
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
  });

  it('5xx answers are retried at most twice more', async () => {
    const h = harness([reply(500), reply(502), json(200, authorization())]);
    await expect(checkToken(h.ctx, TOKEN)).resolves.toEqual(publicAuthorization());
    expect(h.calls).toHaveLength(3);
  });

  it('gives up after three attempts', async () => {
    const h = harness([reply(500), networkError(), reply(503), json(200, authorization())]);
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(h.calls).toHaveLength(3);
  });

  it('backoff jitter comes from the injected random', async () => {
    const low = harness([networkError(), json(200, authorization())], { random: 0 });
    const high = harness([networkError(), json(200, authorization())], { random: 0.99 });
    await checkToken(low.ctx, TOKEN);
    await checkToken(high.ctx, TOKEN);
    expect(low.waits[0]).toBeLessThan(high.waits[0] as number);
  });

  it('a 429 is retried after waiting at least retry-after', async () => {
    const h = harness([reply(429, '{}', { 'retry-after': '2' }), json(200, authorization())]);
    await expect(checkToken(h.ctx, TOKEN)).resolves.toEqual(publicAuthorization());
    expect(h.calls).toHaveLength(2);
    expect(h.waits).toHaveLength(1);
    expect(h.waits[0]).toBeGreaterThanOrEqual(2000);
    expect((h.calls[1]?.at ?? 0) - (h.calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(2000);
  });

  it('a 429 on every attempt is upstream-rate-limited after three fetches', async () => {
    const limited = () => reply(429, '{}', { 'retry-after': '1' });
    const h = harness([limited(), limited(), limited()]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-rate-limited');
    expect(err.headers['retry-after']).toBe('1');
    expect(h.calls).toHaveLength(3);
  });

  it('a 429 whose retry-after does not fit the deadline is answered at once', async () => {
    const h = harness([reply(429, '{}', { 'retry-after': '10' }), json(200, authorization())], {
      deadlineMs: 5000,
    });
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-rate-limited');
    expect(err.headers['retry-after']).toBe('10');
    expect(h.calls).toHaveLength(1);
    expect(h.waits).toEqual([]);
  });

  it.each([
    ['a 5xx', () => reply(500)],
    ['a network error', () => networkError()],
  ])('%s is not retried when the deadline cannot fit the backoff', async (_name, step) => {
    const h = harness([step(), json(200, authorization())], { deadlineMs: 100, random: 0 });
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(h.calls).toHaveLength(1);
    expect(h.waits).toEqual([]);
  });

  it('time spent waiting counts against the deadline', async () => {
    const h = harness([reply(500), reply(500), json(200, authorization())], {
      deadlineMs: 300,
      random: 0.5,
    });
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    // One backoff fits in 300 ms; after it, the second (longer) backoff no longer does.
    expect(h.calls).toHaveLength(2);
    expect(h.waits).toHaveLength(1);
  });

  it('time GHES takes to answer counts against the deadline', async () => {
    const slow500 = async () => {
      h.clock.ms += 4990;
      return new Response('oops', { status: 500 });
    };
    const h = harness([slow500, json(200, authorization())], { deadlineMs: 5000 });
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(h.calls).toHaveLength(1);
  });

  it('a retry gets only the time the deadline leaves, not a whole attempt timeout', async () => {
    // The first attempt fails after 2 500 ms of a 3 000 ms deadline; the retry (after a 50 ms
    // backoff) hangs. Its timeout is cut to the 450 ms left, so the call ends at the deadline
    // rather than a full 2 000 ms attempt later.
    const slow500 = async () => {
      h.clock.ms += 2500;
      return new Response('oops', { status: 500 });
    };
    const h = harness([slow500, hang()], { deadlineMs: 3000, timeoutMs: 2000, random: 0 });
    const started = h.clock.ms;
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-timeout');
    expect(h.calls).toHaveLength(2);
    expect(h.waits).toEqual([50]);
    expect(h.clock.ms - started).toBe(3000);
  });

  it('a backoff that overruns the deadline (a late timer) ends the call without another attempt', async () => {
    const h = harness([reply(500), json(200, authorization())], { deadlineMs: 3000, random: 0 });
    // The isolate's timer fires long after the backoff asked for: the deadline has passed.
    const sleep = h.clock.sleep;
    h.clock.sleep = async (ms, signal) => {
      await sleep(ms, signal);
      h.clock.ms += 5000;
    };
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-timeout');
    expect(err.reason).toBe('deadline of 3000 ms spent after 1 attempt');
    expect(h.calls).toHaveLength(1);
  });

  it('a timeout is not retried', async () => {
    const h = harness([hang(), json(200, authorization())], { timeoutMs: 5 });
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-timeout');
    expect(h.calls).toHaveLength(1);
    expect(h.waits).toEqual([]);
  });

  it.each([
    [404, 'token-not-found'],
    [422, 'upstream-validation-failed'],
    [401, 'upstream-credentials-rejected'],
  ] as const)('a %i is never retried', async (status, code) => {
    const h = harness([json(status, { message: 'x' }), json(200, authorization())]);
    await expectGatewayError(checkToken(h.ctx, TOKEN), code);
    expect(h.calls).toHaveLength(1);
    expect(h.waits).toEqual([]);
  });

  it('each attempt gets a fresh signal bounded by the per-attempt timeout', async () => {
    const h = harness([reply(500), json(200, authorization())]);
    await checkToken(h.ctx, TOKEN);
    const [a, b] = h.calls;
    expect(a?.signal).toBeInstanceOf(AbortSignal);
    expect(b?.signal).toBeInstanceOf(AbortSignal);
    expect(a?.signal).not.toBe(b?.signal);
  });
});

describe('mayHaveApplied: whether a failed mutation may have been carried out by GHES', () => {
  const cases: Array<{
    name: string;
    run: (h: ReturnType<typeof harness>) => Promise<unknown>;
    steps: () => Step[];
    code: ErrorCode;
    mayHaveApplied: boolean;
  }> = [
    {
      name: 'check, 5xx streak',
      run: (h) => checkToken(h.ctx, TOKEN),
      steps: () => [reply(502), reply(502), reply(502)],
      code: 'upstream-error',
      mayHaveApplied: false,
    },
    {
      name: 'delete, 429 on the first attempt (refused, not applied)',
      run: (h) => deleteToken(h.ctx, TOKEN),
      steps: () => [reply(429, '{}', { 'retry-after': '3600' })],
      code: 'upstream-rate-limited',
      mayHaveApplied: false,
    },
    {
      name: 'delete, 502 then a 429 (the first attempt may have revoked it)',
      run: (h) => deleteToken(h.ctx, TOKEN),
      steps: () => [reply(502), reply(429, '{}', { 'retry-after': '3600' })],
      code: 'upstream-rate-limited',
      mayHaveApplied: true,
    },
    {
      name: 'grant delete, network error then a secondary-limit 403',
      run: (h) => deleteGrant(h.ctx, TOKEN),
      steps: () => [networkError(), reply(403, 'You have exceeded a secondary rate limit')],
      code: 'upstream-rate-limited',
      mayHaveApplied: true,
    },
    {
      name: 'delete, 401 on the first attempt',
      run: (h) => deleteToken(h.ctx, TOKEN),
      steps: () => [reply(401, '{"message":"Bad credentials"}')],
      code: 'upstream-credentials-rejected',
      mayHaveApplied: false,
    },
    {
      name: 'delete, 5xx streak',
      run: (h) => deleteToken(h.ctx, TOKEN),
      steps: () => [reply(500), reply(502), reply(503)],
      code: 'upstream-error',
      mayHaveApplied: true,
    },
    {
      name: 'delete, network errors',
      run: (h) => deleteToken(h.ctx, TOKEN),
      steps: () => [networkError(), networkError(), networkError()],
      code: 'upstream-error',
      mayHaveApplied: true,
    },
    {
      name: 'delete, 422',
      run: (h) => deleteToken(h.ctx, TOKEN),
      steps: () => [reply(422, '{"message":"Validation Failed"}')],
      code: 'upstream-validation-failed',
      mayHaveApplied: false,
    },
    {
      name: 'reset, 502',
      run: (h) => resetToken(h.ctx, TOKEN),
      steps: () => [reply(502)],
      code: 'upstream-outcome-unknown',
      mayHaveApplied: true,
    },
    {
      name: 'reset, network error',
      run: (h) => resetToken(h.ctx, TOKEN),
      steps: () => [networkError()],
      code: 'upstream-outcome-unknown',
      mayHaveApplied: true,
    },
    {
      name: 'reset, 404',
      run: (h) => resetToken(h.ctx, TOKEN),
      steps: () => [reply(404, '{"message":"Not Found"}')],
      code: 'token-not-found',
      mayHaveApplied: false,
    },
    {
      name: 'reset, a redirect',
      run: (h) => resetToken(h.ctx, TOKEN),
      steps: () => [reply(307, null, { location: 'https://elsewhere.example/' })],
      code: 'upstream-error',
      mayHaveApplied: false,
    },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const h = harness(c.steps());
    const err = await expectGatewayError(c.run(h), c.code);
    expect(err.mayHaveApplied).toBe(c.mayHaveApplied);
  });
});
