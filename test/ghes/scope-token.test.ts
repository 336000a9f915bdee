/**
 * POST /applications/{client_id}/token/scoped — mint a narrower user token (GitHub Apps, GHES
 * 3.0+). It mints a credential, so it is never retried.
 */
import { describe, expect, it } from 'vitest';
import { scopeToken, type ScopeTokenOptions } from '../../src/ghes/scope-token';
import {
  GITHUB_APP,
  TOKEN,
  authorization,
  expectGatewayError,
  expectWireRequest,
  hang,
  harness,
  json,
  networkError,
  reply,
} from './harness';
import { expectRefused, hostileMintedAuthorizations } from './hostile';

const SCOPED = 'ghu_SCOPEDe42F292c6912E7710c838347Ae17';
const OPTIONS: ScopeTokenOptions = {
  access_token: TOKEN,
  target: 'octo-org',
  repositories: ['docs', 'site'],
  permissions: { contents: 'read', issues: 'write' },
};

describe('scopeToken', () => {
  it('POSTs the options as the JSON body to /token/scoped', async () => {
    const h = harness([json(200, authorization({ token: SCOPED }, GITHUB_APP))], {
      app: GITHUB_APP,
    });
    const out = await scopeToken(h.ctx, OPTIONS);
    expect(out.token).toBe(SCOPED);
    expect(h.calls).toHaveLength(1);
    expectWireRequest(h.calls[0], {
      method: 'POST',
      path: '/token/scoped',
      body: OPTIONS,
      app: GITHUB_APP,
    });
    expect(h.calls[0]?.url).not.toContain(TOKEN);
  });

  it('leaves options that are undefined out of the body', async () => {
    const h = harness([json(200, authorization({}, GITHUB_APP))], { app: GITHUB_APP });
    await scopeToken(h.ctx, {
      access_token: TOKEN,
      target: undefined,
      target_id: 42,
      repositories: undefined,
      repository_ids: [1, 2],
      permissions: undefined,
    });
    expect(JSON.parse(h.calls[0]?.body ?? 'null')).toEqual({
      access_token: TOKEN,
      target_id: 42,
      repository_ids: [1, 2],
    });
  });

  it.each([
    ['a 500', reply(500, 'Internal Server Error')],
    ['a network error', networkError()],
  ])('%s is upstream-outcome-unknown after exactly one fetch', async (_name, step) => {
    const h = harness([step, json(200, authorization({}, GITHUB_APP))], { app: GITHUB_APP });
    await expectGatewayError(scopeToken(h.ctx, OPTIONS), 'upstream-outcome-unknown');
    expect(h.calls).toHaveLength(1);
    expect(h.waits).toEqual([]);
  });

  it('a timeout is upstream-outcome-unknown after exactly one fetch', async () => {
    const h = harness([hang(), json(200, authorization({}, GITHUB_APP))], {
      app: GITHUB_APP,
      timeoutMs: 5,
    });
    await expectGatewayError(scopeToken(h.ctx, OPTIONS), 'upstream-outcome-unknown');
    expect(h.calls).toHaveLength(1);
  });

  it('a 429 is upstream-rate-limited after one fetch', async () => {
    const h = harness(
      [
        reply(429, '{"message":"API rate limit exceeded"}', { 'retry-after': '2' }),
        json(200, authorization({}, GITHUB_APP)),
      ],
      { app: GITHUB_APP },
    );
    const err = await expectGatewayError(scopeToken(h.ctx, OPTIONS), 'upstream-rate-limited');
    expect(err.headers['retry-after']).toBe('2');
    expect(h.calls).toHaveLength(1);
  });

  it('a 422 keeps GitHub’s message and field errors', async () => {
    const h = harness(
      [
        json(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Installation', field: 'permissions', code: 'invalid' }],
        }),
      ],
      { app: GITHUB_APP },
    );
    const err = await expectGatewayError(scopeToken(h.ctx, OPTIONS), 'upstream-validation-failed');
    expect(err.detail).toBe('Validation Failed');
    expect(err.extensions['upstream_errors']).toEqual([
      { resource: 'Installation', field: 'permissions', code: 'invalid' },
    ]);
    expect(h.calls).toHaveLength(1);
  });
});

describe('scopeToken refuses any 2xx that is not a new token of this app', () => {
  it.each(hostileMintedAuthorizations(GITHUB_APP).map((row) => [row.name, row] as const))(
    '%s → upstream-outcome-unknown with mayHaveApplied, one fetch',
    async (_name, row) => {
      await expectRefused(
        row,
        (h) => scopeToken(h.ctx, OPTIONS),
        { code: 'upstream-outcome-unknown', mayHaveApplied: true },
        GITHUB_APP,
      );
    },
  );
});
