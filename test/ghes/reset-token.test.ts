/**
 * resetToken: PATCH /token (GHES 2.20+) or, legacy, POST /tokens/{access_token}. It mints a
 * credential, so it is never retried: after any unclear failure the outcome is unknown.
 */
import { describe, expect, it } from 'vitest';
import { problemShape } from '../../src/lib/errors';
import { resetToken } from '../../src/ghes/reset-token';
import {
  TOKEN,
  authorization,
  expectGatewayError,
  expectWireRequest,
  hang,
  hangBody,
  harness,
  json,
  networkError,
  reply,
} from './harness';
import { expectRefused, hostileMintedAuthorizations } from './hostile';

const NEW_TOKEN = 'gho_NEWe42F292c6912E7710c838347Ae178B4a';

describe('resetToken', () => {
  it('PATCHes the token in the body to /token', async () => {
    const h = harness([json(200, authorization({ token: NEW_TOKEN }))]);
    await resetToken(h.ctx, TOKEN);
    expect(h.calls).toHaveLength(1);
    expectWireRequest(h.calls[0], {
      method: 'PATCH',
      path: '/token',
      body: { access_token: TOKEN },
    });
    expect(h.calls[0]?.url).not.toContain(TOKEN);
  });

  it('returns the authorization carrying the new token', async () => {
    const h = harness([json(200, authorization({ token: NEW_TOKEN }))]);
    const out = await resetToken(h.ctx, TOKEN);
    expect(out.token).toBe(NEW_TOKEN);
  });

  it('maps 404 to token-not-found', async () => {
    const h = harness([json(404, { message: 'Not Found' })]);
    await expectGatewayError(resetToken(h.ctx, TOKEN), 'token-not-found');
    expect(h.calls).toHaveLength(1);
  });

  it.each([500, 502, 503, 504])(
    'a %i is upstream-outcome-unknown after exactly one fetch',
    async (status) => {
      const h = harness([reply(status, 'oops'), json(200, authorization())]);
      const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-outcome-unknown');
      expect(err.upstreamStatus).toBe(status);
      expect(problemShape(err.code).status).toBe(502);
      expect(h.calls).toHaveLength(1);
      expect(h.waits).toEqual([]);
    },
  );

  it('a network error is upstream-outcome-unknown after exactly one fetch', async () => {
    const h = harness([networkError(), json(200, authorization())]);
    await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-outcome-unknown');
    expect(h.calls).toHaveLength(1);
  });

  it('a timeout is upstream-outcome-unknown after exactly one fetch', async () => {
    const h = harness([hang(), json(200, authorization())], { timeoutMs: 5 });
    await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-outcome-unknown');
    expect(h.calls).toHaveLength(1);
  });

  it('a 429 is upstream-rate-limited after one fetch: GHES refused it, nothing was minted', async () => {
    const h = harness([reply(429, '{}', { 'retry-after': '1' }), json(200, authorization())]);
    const err = await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-rate-limited');
    expect(err.headers['retry-after']).toBe('1');
    expect(h.calls).toHaveLength(1);
    expect(h.waits).toEqual([]);
  });

  // GHES has minted the new token but its answer is lost: the caller learns the outcome is unknown.
  it('a 200 whose body never arrives is upstream-outcome-unknown, not an unmapped error', async () => {
    const h = harness([hangBody(200)], { timeoutMs: 5 });
    await expectGatewayError(resetToken(h.ctx, TOKEN), 'upstream-outcome-unknown');
    expect(h.calls).toHaveLength(1);
  });
});

describe('resetToken refuses any 2xx that is not a new token of this app', () => {
  // GHES answered 2xx: it most likely reset the token, but the new one is lost. The outcome is
  // unknown to the caller, and the old token must be treated as gone.
  it.each(hostileMintedAuthorizations().map((row) => [row.name, row] as const))(
    '%s → upstream-outcome-unknown with mayHaveApplied, one fetch',
    async (_name, row) => {
      await expectRefused(row, (h) => resetToken(h.ctx, TOKEN), {
        code: 'upstream-outcome-unknown',
        mayHaveApplied: true,
      });
    },
  );
});

// Wire form, encoding and log redaction of all legacy calls: token-placement.test.ts.
describe('resetToken, legacy path style', () => {
  it('mints a token: a 5xx is upstream-outcome-unknown after one fetch', async () => {
    const h = harness([reply(500), json(200, authorization())]);
    await expectGatewayError(resetToken(h.ctx, TOKEN, 'legacy'), 'upstream-outcome-unknown');
    expect(h.calls).toHaveLength(1);
  });

  it.each(hostileMintedAuthorizations().map((row) => [row.name, row] as const))(
    'refuses %s → upstream-outcome-unknown with mayHaveApplied, one fetch',
    async (_name, row) => {
      await expectRefused(row, (h) => resetToken(h.ctx, TOKEN, 'legacy'), {
        code: 'upstream-outcome-unknown',
        mayHaveApplied: true,
      });
    },
  );
});
