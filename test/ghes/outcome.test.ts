/**
 * What each GHES outcome means (src/ghes/outcome.ts), seen through the calls: status codes, rate
 * limits, redirects, lost attempts.
 */
import { describe, expect, it } from 'vitest';
import { problemShape } from '../../src/lib/errors';
import { checkToken } from '../../src/ghes/check-token';
import { retryAfterSeconds, scrub } from '../../src/ghes/outcome';
import { resetToken } from '../../src/ghes/reset-token';
import {
  CLIENT_SECRET,
  T0,
  TOKEN,
  authorization,
  expectGatewayError,
  hang,
  hangBody,
  harness,
  json,
  networkError,
  reply,
} from './harness';

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

describe('scrub', () => {
  const secret = 'se"cr\\et-0123456789';
  it('redacts a secret raw and JSON-escaped, as a message quoting it carries it', () => {
    const quoted = JSON.stringify({ message: `client_secret ${secret} is invalid` });
    const out = scrub(quoted, [secret]);
    expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(out).toContain('[redacted]');
    expect(scrub(`raw ${secret} end`, [secret])).toBe('raw [redacted] end');
  });

  it('leaves no part of overlapping secrets (a password inside a client secret)', () => {
    const client = 'abcdefPASSWORDxyz';
    const out = scrub(`got ${client} and PASSWORD`, ['PASSWORD', client]);
    expect(out).toBe('got [redacted] and [redacted]');
    for (const part of ['abcdef', 'xyz']) expect(out).not.toContain(part);
  });

  it('leaves text without secrets as it is', () => {
    expect(scrub('nothing here', ['absent', ''])).toBe('nothing here');
  });
});
