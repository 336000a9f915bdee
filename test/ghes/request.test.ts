/**
 * The shared request helper (src/ghes/request.ts): how each GHES outcome maps to a gateway error,
 * and which failures are retried. Idempotent behaviour is shown through `checkToken`, the
 * never-retry behaviour through `resetToken`; both are thin wrappers over `ghesRequest`.
 */
import { describe, expect, it } from 'vitest';
import { problemShape, type ErrorCode } from '../../src/lib/errors';
import { deleteGrant } from '../../src/ghes/delete-grant';
import { deleteToken } from '../../src/ghes/delete-token';
import { checkToken } from '../../src/ghes/check-token';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  basicAuth,
  ghesRequest,
  retryAfterSeconds,
  type GhesCall,
} from '../../src/ghes/request';
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
  T0,
  TOKEN,
  authorization,
  publicAuthorization,
  expectGatewayError,
  expectedBasic,
  hang,
  hangBody,
  harness,
  json,
  networkError,
  reply,
  STREAM_CHUNK_BYTES,
  streamed,
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

describe('error mapping', () => {
  it('404 is token-not-found (404)', async () => {
    const h = harness([json(404, { message: 'Not Found' })]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'token-not-found');
    expect(problemShape(err.code).status).toBe(404);
  });

  it('422 is upstream-validation-failed with GitHub’s message and field errors', async () => {
    const h = harness([
      json(422, {
        message: 'Validation Failed',
        errors: [
          { resource: 'OauthAccess', field: 'access_token', code: 'invalid', extra: 'dropped' },
          { resource: 'OauthAccess', code: 'custom', message: 'token is expired' },
        ],
        documentation_url: 'https://docs.github.com/enterprise-server@3.12/rest',
      }),
    ]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-validation-failed');
    expect(problemShape(err.code).status).toBe(422);
    expect(err.upstreamStatus).toBe(422);
    expect(err.detail).toBe('Validation Failed');
    expect(err.extensions).toEqual({
      upstream_errors: [
        { resource: 'OauthAccess', field: 'access_token', code: 'invalid' },
        { resource: 'OauthAccess', code: 'custom', message: 'token is expired' },
      ],
    });
    expect(h.calls).toHaveLength(1);
  });

  it('422 scrubs the token and the client secret when GHES echoes them', async () => {
    const h = harness([
      json(422, {
        message: `token ${TOKEN} is not valid for client secret ${CLIENT_SECRET}`,
        errors: [
          {
            resource: 'OauthAccess',
            field: 'access_token',
            code: 'invalid',
            message: `got ${TOKEN}`,
          },
        ],
      }),
    ]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-validation-failed');
    expect(err.detail).toBe('token [redacted] is not valid for client secret [redacted]');
    expect(err.extensions['upstream_errors']).toEqual([
      {
        resource: 'OauthAccess',
        field: 'access_token',
        code: 'invalid',
        message: 'got [redacted]',
      },
    ]);
  });

  it('a 422 that is not JSON still maps, with a generic detail and no field errors', async () => {
    const h = harness([reply(422, `<html>${TOKEN}</html>`, { 'content-type': 'text/html' })]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-validation-failed');
    expect(err.detail).not.toContain(TOKEN);
    expect(err.extensions['upstream_errors']).toEqual([]);
  });

  it.each([
    [401, { message: 'Bad credentials' }],
    [403, { message: 'Must have admin rights to Repository.' }],
  ])('%i is upstream-credentials-rejected (502) and not retried', async (status, body) => {
    const h = harness([json(status, body), json(200, authorization())]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-credentials-rejected');
    expect(problemShape(err.code).status).toBe(502);
    expect(err.upstreamStatus).toBe(status);
    expect(h.calls).toHaveLength(1);
  });

  it('429 is upstream-rate-limited with retry-after and x-ratelimit-* passed through', async () => {
    const headers = {
      'retry-after': '30',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(T0 / 1000 + 30),
      'x-ratelimit-used': '5000',
      'x-ratelimit-resource': 'core',
      'x-github-request-id': 'not-passed',
    };
    const h = harness([reply(429, '{"message":"API rate limit exceeded"}', headers)]);
    const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-rate-limited');
    expect(problemShape(err.code).status).toBe(429);
    expect(err.upstreamStatus).toBe(429);
    const { 'x-github-request-id': _dropped, ...passed } = headers;
    expect(err.headers).toEqual(passed);
  });

  it('403 with retry-after is a secondary rate limit, not a credentials problem', async () => {
    const h = harness([reply(403, '{"message":"Forbidden"}', { 'retry-after': '45' })]);
    const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-rate-limited');
    expect(err.headers['retry-after']).toBe('45');
  });

  it('403 with x-ratelimit-remaining: 0 is rate-limited until x-ratelimit-reset', async () => {
    const reset = String(T0 / 1000 + 90);
    const h = harness([
      reply(403, '{"message":"API rate limit exceeded"}', {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': reset,
        'x-ratelimit-limit': '5000',
      }),
    ]);
    const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-rate-limited');
    expect(err.headers).toEqual({
      'retry-after': '90',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': reset,
      'x-ratelimit-limit': '5000',
    });
  });

  it('403 saying "secondary rate limit" is rate-limited, 60 s when GHES gives no hint', async () => {
    const message =
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
    const h = harness([json(403, { message })]);
    const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-rate-limited');
    expect(err.headers['retry-after']).toBe('60');
  });

  it.each([301, 302, 303, 307, 308])(
    '%i is upstream-error, never followed nor retried',
    async (status) => {
      const h = harness([
        reply(status, null, { location: 'https://login.example.test/sso?return=/api/v3' }),
        json(200, authorization()),
      ]);
      const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
      expect(err.upstreamStatus).toBe(status);
      expect(h.calls).toHaveLength(1);
      expect(h.calls[0]?.redirect).toBe('manual');
    },
  );

  it('an unexpected 4xx (400) is upstream-error', async () => {
    const h = harness([json(400, { message: 'Problems parsing JSON' })]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.upstreamStatus).toBe(400);
    expect(h.calls).toHaveLength(1);
  });

  it('5xx on every attempt is upstream-error (502) with the last status', async () => {
    const h = harness([reply(500), reply(502), reply(503)]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(problemShape(err.code).status).toBe(502);
    expect(err.upstreamStatus).toBe(503);
  });

  it('a network error on every attempt is upstream-error', async () => {
    const h = harness([networkError(), networkError(), networkError()]);
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
  });

  it('an attempt that outlives timeoutMs is aborted and answers upstream-timeout (504)', async () => {
    const h = harness([hang(), json(200, authorization())], { timeoutMs: 5 });
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-timeout');
    expect(problemShape(err.code).status).toBe(504);
    expect(h.calls[0]?.signal?.aborted).toBe(true);
  });

  // A body that dies after the headers is as ambiguous as no answer: mapped, never raw.
  it('a 2xx whose body outlives timeoutMs is upstream-timeout, not an unmapped error', async () => {
    const h = harness([hangBody(200)], { timeoutMs: 5 });
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-timeout');
  });

  it('an error status whose body never arrives still maps by status', async () => {
    const h = harness([hangBody(404)], { timeoutMs: 5 });
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'token-not-found');
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

describe('answers are read with a size bound', () => {
  const LIMIT = 16_384;
  const AUTH = JSON.stringify(authorization());

  it('an answer of exactly maxResponseBytes is read', async () => {
    const body = streamed(200, LIMIT, { prefix: AUTH });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    await expect(checkToken(h.ctx, TOKEN)).resolves.toEqual(publicAuthorization());
    expect(body.stats).toEqual({ pulled: LIMIT, cancelled: false });
  });

  it('one byte more is upstream-error, never retried', async () => {
    const body = streamed(200, LIMIT + 1, { prefix: AUTH });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.reason).toContain(`over ${LIMIT} bytes`);
    expect(err.detail).toBe(`GHES answered with more than ${LIMIT} bytes`);
    expect(h.calls).toHaveLength(1);
  });

  it('reading stops at the first chunk past the bound, and the stream is cancelled', async () => {
    const body = streamed(200, 10 * LIMIT, { prefix: AUTH });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(body.stats).toEqual({ pulled: LIMIT + STREAM_CHUNK_BYTES, cancelled: true });
  });

  it('400 MB is refused after reading about the bound (1 MiB by default), not 400 MB', async () => {
    const body = streamed(200, 400 * 1024 * 1024, { prefix: AUTH });
    const h = harness([body.step]);
    expect(h.ctx.maxResponseBytes).toBeUndefined();
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(body.stats.cancelled).toBe(true);
    expect(body.stats.pulled).toBeGreaterThan(DEFAULT_MAX_RESPONSE_BYTES);
    expect(body.stats.pulled).toBeLessThanOrEqual(DEFAULT_MAX_RESPONSE_BYTES + STREAM_CHUNK_BYTES);
  });

  it('a content-length over the bound is refused before reading anything', async () => {
    const body = streamed(200, 400 * 1024 * 1024, { prefix: AUTH, contentLength: true });
    const h = harness([body.step]);
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(body.stats).toEqual({ pulled: 0, cancelled: true });
  });

  it('an oversized reset answer: GHES reset the token, the outcome is unknown', async () => {
    const body = streamed(200, 2 * LIMIT, { prefix: AUTH });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-outcome-unknown');
    expect(err.mayHaveApplied).toBe(true);
    expect(body.stats.cancelled).toBe(true);
  });

  it('an oversized delete answer is upstream-error with mayHaveApplied, never success', async () => {
    const body = streamed(200, 2 * LIMIT);
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    const err = await expectGatewayError(deleteToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.mayHaveApplied).toBe(true);
    expect(body.stats.cancelled).toBe(true);
  });

  it('an oversized error answer still maps by its status, with its body unread', async () => {
    const body = streamed(422, 2 * LIMIT, { prefix: '{"message":"Validation Failed"' });
    const h = harness([body.step]);
    h.ctx.maxResponseBytes = LIMIT;
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-validation-failed');
    expect(err.detail).toBe('GHES rejected the request as invalid');
    expect(body.stats.cancelled).toBe(true);
  });

  it('a 2xx that is not UTF-8 is upstream-error', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"id":'), 0xff, 0xfe, 0x7d]);
    const h = harness([async () => new Response(bytes, { status: 200 })]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.reason).toContain('not UTF-8');
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

describe('retryAfterSeconds', () => {
  const now = T0;
  it('prefers a delta-seconds retry-after', () => {
    expect(
      retryAfterSeconds(new Headers({ 'retry-after': '7', 'x-ratelimit-remaining': '0' }), now),
    ).toBe(7);
  });
  it('falls back to x-ratelimit-reset when the primary limit is spent, at least 1 s', () => {
    const h = (reset: number) =>
      new Headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) });
    expect(retryAfterSeconds(h(now / 1000 + 42), now)).toBe(42);
    expect(retryAfterSeconds(h(now / 1000 - 5), now)).toBe(1);
  });
  it('is 60 s when GHES gives nothing usable (GitHub: "wait at least one minute")', () => {
    expect(retryAfterSeconds(new Headers(), now)).toBe(60);
    expect(
      retryAfterSeconds(new Headers({ 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' }), now),
    ).toBe(60);
  });
});
