/** deleteToken: DELETE /token (GHES 2.20+) or, legacy, /tokens/{access_token}. Idempotent. */
import { describe, expect, it } from 'vitest';
import { deleteToken } from '../../src/ghes/delete-token';
import {
  TOKEN,
  expectGatewayError,
  expectWireRequest,
  harness,
  json,
  networkError,
  reply,
} from './harness';
import { expectRefused, hostileNoContent } from './hostile';

const NOT_FOUND = {
  message: 'Not Found',
  documentation_url: 'https://docs.github.com/enterprise-server',
};

describe('deleteToken', () => {
  it('sends DELETE /token with the token in a JSON body', async () => {
    const h = harness([reply(204)]);
    await expect(deleteToken(h.ctx, TOKEN)).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(1);
    expectWireRequest(h.calls[0], {
      method: 'DELETE',
      path: '/token',
      body: { access_token: TOKEN },
    });
    expect(h.calls[0]?.url).not.toContain(TOKEN);
  });

  it('a 404 on the first attempt is token-not-found', async () => {
    const h = harness([json(404, NOT_FOUND)]);
    await expectGatewayError(deleteToken(h.ctx, TOKEN), 'token-not-found');
    expect(h.calls).toHaveLength(1);
  });

  it('a 5xx then a 404 succeeds: the first attempt must have deleted it', async () => {
    const h = harness([reply(502, 'Bad Gateway'), json(404, NOT_FOUND)]);
    await expect(deleteToken(h.ctx, TOKEN)).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
    expectWireRequest(h.calls[1], {
      method: 'DELETE',
      path: '/token',
      body: { access_token: TOKEN },
    });
  });

  it('a network error then a 404 succeeds too', async () => {
    const h = harness([networkError(), json(404, NOT_FOUND)]);
    await expect(deleteToken(h.ctx, TOKEN)).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
  });

  it('a 429 then a 404 is token-not-found: a rate-limited attempt did nothing', async () => {
    const h = harness([reply(429, '{}', { 'retry-after': '1' }), json(404, NOT_FOUND)]);
    await expectGatewayError(deleteToken(h.ctx, TOKEN), 'token-not-found');
    expect(h.calls).toHaveLength(2);
  });

  it('three 5xx are upstream-error after three fetches', async () => {
    const h = harness([reply(500), reply(503), reply(500)]);
    const err = await expectGatewayError(deleteToken(h.ctx, TOKEN), 'upstream-error');
    expect(err.upstreamStatus).toBe(500);
    expect(h.calls).toHaveLength(3);
  });

  it('a 422 is not retried', async () => {
    const h = harness([json(422, { message: 'Validation Failed', errors: [] })]);
    await expectGatewayError(deleteToken(h.ctx, TOKEN), 'upstream-validation-failed');
    expect(h.calls).toHaveLength(1);
  });
});

describe('deleteToken refuses a 2xx that carries a body', () => {
  // GitHub documents 204 No Content. A 2xx with a body is not GHES's answer (a proxy's page, say):
  // the revocation may or may not have happened, so it is not reported done.
  it.each(hostileNoContent().map((row) => [row.name, row] as const))(
    '%s → upstream-error with mayHaveApplied, one fetch',
    async (_name, row) => {
      await expectRefused(row, (h) => deleteToken(h.ctx, TOKEN), {
        code: 'upstream-error',
        mayHaveApplied: true,
      });
    },
  );

  it.each([200, 202])('a %s with an empty body is success', async (status) => {
    const h = harness([reply(status)]);
    await expect(deleteToken(h.ctx, TOKEN)).resolves.toBeUndefined();
  });
});

// Wire form, encoding and log redaction of all legacy calls: token-placement.test.ts.
describe('deleteToken, legacy path style', () => {
  it('is idempotent: a 5xx is retried', async () => {
    const h = harness([reply(503), reply(204)]);
    await expect(deleteToken(h.ctx, TOKEN, 'legacy')).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
  });

  it('a 5xx then a 404 succeeds: the first attempt must have deleted it', async () => {
    const h = harness([reply(500), json(404, { message: 'Not Found' })]);
    await expect(deleteToken(h.ctx, TOKEN, 'legacy')).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
  });

  it.each(hostileNoContent().map((row) => [row.name, row] as const))(
    'refuses %s → upstream-error with mayHaveApplied, one fetch',
    async (_name, row) => {
      await expectRefused(row, (h) => deleteToken(h.ctx, TOKEN, 'legacy'), {
        code: 'upstream-error',
        mayHaveApplied: true,
      });
    },
  );
});
