/** Grants (list, get, delete) and GET /user. */
import { describe, expect, it } from 'vitest';
import { deleteGrantById } from '../../../src/ghes/authorizations/delete-grant';
import { getGrant } from '../../../src/ghes/authorizations/get-grant';
import { getUserId } from '../../../src/ghes/authorizations/get-user';
import { listGrants } from '../../../src/ghes/authorizations/list-grants';
import { BASE_URL, CLIENT_ID, expectGatewayError, harness, json, reply } from '../harness';
import { USER, USER_2FA, expectUserRequest } from './harness';

const GRANT = {
  id: 7,
  url: `${BASE_URL}/applications/grants/7`,
  app: { client_id: CLIENT_ID, name: 'Docs', url: 'https://docs.example.test' },
  created_at: '2025-12-01T00:00:00Z',
  updated_at: '2025-12-01T00:00:00Z',
  scopes: ['repo'],
};

describe('grants', () => {
  it('listGrants: GET /applications/grants?client_id=', async () => {
    const h = harness([json(200, [{ ...GRANT, extra: 'dropped' }])]);
    await expect(listGrants(h.ctx, USER_2FA, { perPage: 10 })).resolves.toEqual({ items: [GRANT] });
    expectUserRequest(h.calls[0], {
      method: 'GET',
      path: `/applications/grants?client_id=${CLIENT_ID}&per_page=10`,
      user: USER_2FA,
    });
  });

  it('getGrant: GET /applications/grants/{id}', async () => {
    const h = harness([json(200, GRANT)]);
    await expect(getGrant(h.ctx, USER, 7)).resolves.toEqual(GRANT);
    expectUserRequest(h.calls[0], { method: 'GET', path: '/applications/grants/7' });
  });

  it('getGrant refuses a grant without scopes', async () => {
    const { scopes: _s, ...bad } = GRANT;
    const h = harness([json(200, bad)]);
    await expectGatewayError(getGrant(h.ctx, USER, 7), 'upstream-error');
  });

  it('deleteGrantById: DELETE /applications/grants/{id}, retried after a 5xx', async () => {
    const h = harness([reply(503), reply(204)]);
    await expect(deleteGrantById(h.ctx, USER, 7)).resolves.toBeUndefined();
    expect(h.calls).toHaveLength(2);
    expectUserRequest(h.calls[1], { method: 'DELETE', path: '/applications/grants/7' });
  });

  it('getUserId: GET /user', async () => {
    const h = harness([json(200, { login: 'octocat', id: 42, email: 'x' })]);
    await expect(getUserId(h.ctx, USER)).resolves.toBe(42);
    expectUserRequest(h.calls[0], { method: 'GET', path: '/user' });
  });
});
