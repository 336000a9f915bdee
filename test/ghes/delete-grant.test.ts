/**
 * deleteGrant: DELETE /grant (GHES 2.20+) or, legacy, /grants/{access_token}, revoking every
 * token of that user for that app. Idempotent.
 */
import { describe, expect, it } from 'vitest';
import { deleteGrant } from '../../src/ghes/delete-grant';
import {
  TOKEN,
  expectGatewayError,
  expectWireRequest,
  hang,
  harness,
  json,
  networkError,
  reply,
} from './harness';
import { expectRefused, hostileNoContent } from './hostile';

const NOT_FOUND = { message: 'Not Found' };

describe('deleteGrant', () => {
  it('sends DELETE /grant with the token in a JSON body', async () => {
    const h = harness([reply(204)]);
    await expect(deleteGrant(h.ctx, TOKEN)).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(1);
    expectWireRequest(h.calls[0], {
      method: 'DELETE',
      path: '/grant',
      body: { access_token: TOKEN },
    });
    expect(h.calls[0]?.url).not.toContain(TOKEN);
  });

  it('a 404 on the first attempt is token-not-found', async () => {
    const h = harness([json(404, NOT_FOUND)]);
    const err = await expectGatewayError(deleteGrant(h.ctx, TOKEN), 'token-not-found');
    expect(err.upstreamStatus).toBe(404);
    expect(h.calls).toHaveLength(1);
  });

  it('a 5xx then a 404 succeeds: the first attempt must have deleted the grant', async () => {
    const h = harness([reply(500), json(404, NOT_FOUND)]);
    await expect(deleteGrant(h.ctx, TOKEN)).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
    expectWireRequest(h.calls[1], {
      method: 'DELETE',
      path: '/grant',
      body: { access_token: TOKEN },
    });
  });

  it('network error, 5xx, then 204 succeeds after three fetches', async () => {
    const h = harness([networkError(), reply(503), reply(204)]);
    await expect(deleteGrant(h.ctx, TOKEN)).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(3);
    expect(h.waits).toHaveLength(2);
  });

  it('a timeout is upstream-timeout and not retried', async () => {
    const h = harness([hang(), reply(204)], { timeoutMs: 5 });
    await expectGatewayError(deleteGrant(h.ctx, TOKEN), 'upstream-timeout');
    expect(h.calls).toHaveLength(1);
  });

  it('a 401 is upstream-credentials-rejected and not retried', async () => {
    const h = harness([json(401, { message: 'Bad credentials' }), reply(204)]);
    await expectGatewayError(deleteGrant(h.ctx, TOKEN), 'upstream-credentials-rejected');
    expect(h.calls).toHaveLength(1);
  });
});

describe('deleteGrant refuses a 2xx that carries a body', () => {
  // GitHub documents 204 No Content. A 2xx with a body is not GHES's answer (a proxy's page, say):
  // the revocation may or may not have happened, so it is not reported done.
  it.each(hostileNoContent().map((row) => [row.name, row] as const))(
    '%s → upstream-error with mayHaveApplied, one fetch',
    async (_name, row) => {
      await expectRefused(row, (h) => deleteGrant(h.ctx, TOKEN), {
        code: 'upstream-error',
        mayHaveApplied: true,
      });
    },
  );

  it.each([200, 202])('a %s with an empty body is success', async (status) => {
    const h = harness([reply(status)]);
    await expect(deleteGrant(h.ctx, TOKEN)).resolves.toBeUndefined();
  });
});

// Wire form, encoding and log redaction of all legacy calls: token-placement.test.ts.
describe('deleteGrant, legacy path style', () => {
  it('is idempotent: a 5xx is retried', async () => {
    const h = harness([reply(503), reply(204)]);
    await expect(deleteGrant(h.ctx, TOKEN, 'legacy')).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
  });

  it('a 5xx then a 404 succeeds: the first attempt must have deleted it', async () => {
    const h = harness([reply(500), json(404, { message: 'Not Found' })]);
    await expect(deleteGrant(h.ctx, TOKEN, 'legacy')).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
  });

  it.each(hostileNoContent().map((row) => [row.name, row] as const))(
    'refuses %s → upstream-error with mayHaveApplied, one fetch',
    async (_name, row) => {
      await expectRefused(row, (h) => deleteGrant(h.ctx, TOKEN, 'legacy'), {
        code: 'upstream-error',
        mayHaveApplied: true,
      });
    },
  );
});
