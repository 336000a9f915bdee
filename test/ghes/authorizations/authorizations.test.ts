/** list / get / update / delete of authorizations: wire form, retry rules, answer checks. */
import { describe, expect, it } from 'vitest';
import { deleteAuthorization } from '../../../src/ghes/authorizations/delete-authorization';
import { getAuthorization } from '../../../src/ghes/authorizations/get-authorization';
import { listAuthorizations } from '../../../src/ghes/authorizations/list-authorizations';
import { updateAuthorization } from '../../../src/ghes/authorizations/update-authorization';
import {
  BASE_URL,
  CLIENT_ID,
  TOKEN,
  authorization,
  expectGatewayError,
  harness,
  json,
  networkError,
  publicAuthorization,
  reply,
} from '../harness';
import { USER, USER_2FA, expectUserRequest } from './harness';

describe('listAuthorizations', () => {
  it('GET /authorizations?client_id= with page and per_page, as the user', async () => {
    const h = harness([json(200, [authorization()])]);
    const page = await listAuthorizations(h.ctx, USER_2FA, { page: 2, perPage: 50 });
    expectUserRequest(h.calls[0], {
      method: 'GET',
      path: `/authorizations?client_id=${CLIENT_ID}&per_page=50&page=2`,
      user: USER_2FA,
    });
    // Tokens and hashed tokens of listed authorizations are dropped.
    expect(page.items).toEqual([publicAuthorization()]);
    expect(JSON.stringify(page)).not.toContain(TOKEN);
    expect(JSON.stringify(page)).not.toContain('hashed_token');
    expect(page.nextPage).toBeUndefined();
  });

  it("reads the next page number from GHES's Link header", async () => {
    const link = `<${BASE_URL}/authorizations?client_id=${CLIENT_ID}&page=3>; rel="next", <${BASE_URL}/authorizations?page=9>; rel="last"`;
    const h = harness([json(200, [], { link })]);
    const page = await listAuthorizations(h.ctx, USER);
    expect(page.nextPage).toBe(3);
    expectUserRequest(h.calls[0], {
      method: 'GET',
      path: `/authorizations?client_id=${CLIENT_ID}`,
    });
  });

  it('is retried after a network error', async () => {
    const h = harness([networkError(), json(200, [])]);
    await expect(listAuthorizations(h.ctx, USER)).resolves.toEqual({ items: [] });
    expect(h.calls).toHaveLength(2);
  });

  it('refuses an answer that is not a list of authorizations', async () => {
    const h = harness([json(200, { id: 1 })]);
    await expectGatewayError(listAuthorizations(h.ctx, USER), 'upstream-error');
  });
});

describe('getAuthorization', () => {
  it('GET /authorizations/{id}; answers without token and hashed_token', async () => {
    const h = harness([json(200, authorization())]);
    await expect(getAuthorization(h.ctx, USER, 1001)).resolves.toEqual(publicAuthorization());
    expectUserRequest(h.calls[0], { method: 'GET', path: '/authorizations/1001' });
  });
});

describe('updateAuthorization', () => {
  it('PATCH /authorizations/{id} with exactly the fields given', async () => {
    const h = harness([json(200, authorization({ scopes: ['repo'] }))]);
    const out = await updateAuthorization(h.ctx, USER, 1001, {
      remove_scopes: ['read:org'],
      note: 'n',
    });
    expect(out.scopes).toEqual(['repo']);
    expect(JSON.stringify(out)).not.toContain(TOKEN);
    expectUserRequest(h.calls[0], {
      method: 'PATCH',
      path: '/authorizations/1001',
      body: { remove_scopes: ['read:org'], note: 'n' },
    });
  });

  it('is retried after a 5xx: setting, adding or removing scopes ends the same way twice', async () => {
    const h = harness([reply(502), json(200, authorization())]);
    await updateAuthorization(h.ctx, USER, 1001, { scopes: ['repo'] });
    expect(h.calls).toHaveLength(2);
  });
});

describe('deleteAuthorization', () => {
  it('DELETE /authorizations/{id}, 204', async () => {
    const h = harness([reply(204)]);
    await expect(deleteAuthorization(h.ctx, USER, 1001)).resolves.toBeUndefined();
    expectUserRequest(h.calls[0], { method: 'DELETE', path: '/authorizations/1001' });
  });

  it('a 5xx then a 404 is success: the first attempt deleted it', async () => {
    const h = harness([reply(500), json(404, { message: 'Not Found' })]);
    await expect(deleteAuthorization(h.ctx, USER, 1001)).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
  });

  it('a first 404 is authorization-not-found', async () => {
    const h = harness([json(404, { message: 'Not Found' })]);
    await expectGatewayError(deleteAuthorization(h.ctx, USER, 1001), 'authorization-not-found');
  });

  it("a 2xx with a body is refused (not GHES's answer), mayHaveApplied", async () => {
    const h = harness([json(200, { ok: true })]);
    const err = await expectGatewayError(deleteAuthorization(h.ctx, USER, 1001), 'upstream-error');
    expect(err.mayHaveApplied).toBe(true);
  });
});
