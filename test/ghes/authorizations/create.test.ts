/** POST create and PUT get-or-create: the client secret in the body, never retried vs retried. */
import { describe, expect, it } from 'vitest';
import { createAuthorization } from '../../../src/ghes/authorizations/create-authorization';
import { getOrCreateAuthorization } from '../../../src/ghes/authorizations/get-or-create-authorization';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  GITHUB_APP,
  TOKEN,
  authorization,
  expectGatewayError,
  harness,
  json,
  networkError,
  publicAuthorization,
  reply,
} from '../harness';
import { USER, expectUserRequest } from './harness';

describe('createAuthorization', () => {
  it("POST /authorizations with the app's client_id and client_secret in the body", async () => {
    const h = harness([json(201, authorization())]);
    const created = await createAuthorization(h.ctx, USER, { scopes: ['repo'], note: 'ci' });
    expect(created.token).toBe(TOKEN);
    expect(created).not.toHaveProperty('hashed_token');
    expectUserRequest(h.calls[0], {
      method: 'POST',
      path: '/authorizations',
      body: { scopes: ['repo'], note: 'ci', client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
    });
  });

  it('is never retried: a 5xx is upstream-outcome-unknown after one call', async () => {
    const h = harness([reply(502), json(201, authorization())]);
    const err = await expectGatewayError(
      createAuthorization(h.ctx, USER, {}),
      'upstream-outcome-unknown',
    );
    expect(err.mayHaveApplied).toBe(true);
    expect(h.calls).toHaveLength(1);
  });

  it('a lost connection is upstream-outcome-unknown, not retried', async () => {
    const h = harness([networkError(), json(201, authorization())]);
    await expectGatewayError(createAuthorization(h.ctx, USER, {}), 'upstream-outcome-unknown');
    expect(h.calls).toHaveLength(1);
  });

  it('an answer about another app is refused', async () => {
    const h = harness([json(201, authorization({}, GITHUB_APP))]);
    await expectGatewayError(createAuthorization(h.ctx, USER, {}), 'upstream-outcome-unknown');
  });

  it("422 already_exists keeps GitHub's message, without the client secret", async () => {
    const h = harness([
      json(422, {
        message: `Validation Failed ${CLIENT_SECRET}`,
        errors: [{ resource: 'OauthAccess', code: 'already_exists', field: 'description' }],
      }),
    ]);
    const err = await expectGatewayError(
      createAuthorization(h.ctx, USER, { fingerprint: 'f' }),
      'upstream-validation-failed',
    );
    expect(err.detail).toBe('Validation Failed [redacted]');
    expect(err.mayHaveApplied).toBe(false);
  });
});

describe('getOrCreateAuthorization', () => {
  it('PUT /authorizations/clients/{client_id}: 201 returns the token; secret in the body only', async () => {
    const h = harness([json(201, authorization())]);
    const out = await getOrCreateAuthorization(h.ctx, USER, { scopes: ['repo'] });
    expect(out).toEqual({ created: true, authorization: publicAuthorization(), token: TOKEN });
    expectUserRequest(h.calls[0], {
      method: 'PUT',
      path: `/authorizations/clients/${CLIENT_ID}`,
      body: { scopes: ['repo'], client_secret: CLIENT_SECRET },
    });
  });

  it('with a fingerprint: in the path (encoded), not in the body', async () => {
    const h = harness([json(201, authorization({ fingerprint: 'a/b c' }))]);
    await getOrCreateAuthorization(h.ctx, USER, { fingerprint: 'a/b', note: 'x' });
    expectUserRequest(h.calls[0], {
      method: 'PUT',
      path: `/authorizations/clients/${CLIENT_ID}/a%2Fb`,
      body: { note: 'x', client_secret: CLIENT_SECRET },
    });
  });

  it('200 (it existed): no token, whatever GHES puts in `token`', async () => {
    const h = harness([json(200, authorization({ token: '' }))]);
    const out = await getOrCreateAuthorization(h.ctx, USER, {});
    expect(out).toEqual({ created: false, authorization: publicAuthorization() });
    const h2 = harness([json(200, authorization())]);
    const out2 = await getOrCreateAuthorization(h2.ctx, USER, {});
    expect(JSON.stringify(out2)).not.toContain(TOKEN);
  });

  it('is retried like any PUT: a lost 201 then 200 answers "existed"', async () => {
    const h = harness([reply(502), json(200, authorization({ token: '' }))]);
    const out = await getOrCreateAuthorization(h.ctx, USER, {});
    expect(out.created).toBe(false);
    expect(h.calls).toHaveLength(2);
  });

  it('a 201 without a usable token is upstream-outcome-unknown', async () => {
    const h = harness([json(201, authorization({ token: '' }))]);
    await expectGatewayError(getOrCreateAuthorization(h.ctx, USER, {}), 'upstream-outcome-unknown');
  });

  it('an authorization of another app is refused', async () => {
    const h = harness([json(200, authorization({}, GITHUB_APP))]);
    await expectGatewayError(getOrCreateAuthorization(h.ctx, USER, {}), 'upstream-error');
  });
});
