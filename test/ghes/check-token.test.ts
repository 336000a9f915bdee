/** checkToken: POST /token (GHES 2.20+) or, legacy, GET /tokens/{access_token}. */
import { describe, expect, it } from 'vitest';
import { checkToken } from '../../src/ghes/check-token';
import {
  TOKEN,
  authorization,
  publicAuthorization,
  expectGatewayError,
  expectWireRequest,
  harness,
  json,
  networkError,
  reply,
} from './harness';
import { expectRefused, hostileCheckAnswers } from './hostile';

describe('checkToken', () => {
  it('POSTs the token in the body to /token with the app’s Basic credentials', async () => {
    const h = harness([json(200, authorization())]);
    await checkToken(h.ctx, TOKEN);
    expect(h.calls).toHaveLength(1);
    expectWireRequest(h.calls[0], {
      method: 'POST',
      path: '/token',
      body: { access_token: TOKEN },
    });
    // Body style keeps the token out of the URL, and so out of GHES and proxy access logs.
    expect(h.calls[0]?.url).not.toContain(TOKEN);
  });

  it('returns GHES’s authorization without token and hashed_token', async () => {
    const overrides = { scopes: ['read:user'], note: 'ci' };
    const h = harness([json(200, authorization(overrides))]);
    await expect(checkToken(h.ctx, TOKEN)).resolves.toEqual(publicAuthorization(overrides));
  });

  it('maps 404 to token-not-found without retrying', async () => {
    const h = harness([json(404, { message: 'Not Found' })]);
    const err = await expectGatewayError(checkToken(h.ctx, TOKEN), 'token-not-found');
    expect(err.upstreamStatus).toBe(404);
    expect(h.calls).toHaveLength(1);
  });

  it('is idempotent: a 502 then a 200 answers the 200, sending the same request twice', async () => {
    const h = harness([reply(502, 'Bad Gateway'), json(200, authorization())]);
    await expect(checkToken(h.ctx, TOKEN)).resolves.toEqual(publicAuthorization());
    expect(h.calls).toHaveLength(2);
    for (const call of h.calls) {
      expectWireRequest(call, { method: 'POST', path: '/token', body: { access_token: TOKEN } });
    }
  });

  it('an unknown outcome before a 404 is still token-not-found: checking changes nothing', async () => {
    const h = harness([networkError(), json(404, { message: 'Not Found' })]);
    await expectGatewayError(checkToken(h.ctx, TOKEN), 'token-not-found');
    expect(h.calls).toHaveLength(2);
  });
});

describe('checkToken refuses any 2xx that is not an authorization of this app', () => {
  it.each(hostileCheckAnswers().map((row) => [row.name, row] as const))(
    '%s → upstream-error, never retried, never returned',
    async (_name, row) => {
      await expectRefused(row, (h) => checkToken(h.ctx, TOKEN), {
        code: 'upstream-error',
        // A check changes nothing at GHES.
        mayHaveApplied: false,
      });
    },
  );
});

// Wire form, encoding and log redaction of all legacy calls: token-placement.test.ts.
describe('checkToken, legacy path style', () => {
  const legacyAnswer = () => json(200, authorization({ token: TOKEN }));

  it('is idempotent: a 5xx is retried', async () => {
    const h = harness([reply(503), legacyAnswer()]);
    await checkToken(h.ctx, TOKEN, 'legacy');
    expect(h.calls).toHaveLength(2);
  });

  it('a 5xx then a 404 is still token-not-found', async () => {
    const h = harness([reply(500), json(404, { message: 'Not Found' })]);
    await expectGatewayError(checkToken(h.ctx, TOKEN, 'legacy'), 'token-not-found');
  });

  it.each(hostileCheckAnswers().map((row) => [row.name, row] as const))(
    'refuses %s → upstream-error, one fetch',
    async (_name, row) => {
      await expectRefused(row, (h) => checkToken(h.ctx, TOKEN, 'legacy'), {
        code: 'upstream-error',
        mayHaveApplied: false,
      });
    },
  );
});
