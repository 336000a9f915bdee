/**
 * Answers that carry a credential, or token state, are never stored by a cache on the way:
 * `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1, RFC 7662 §4) on every /v1 and
 * /introspect answer, successful or not, and on every problem answer of any route.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { forwardAuth, introspect } from '../introspection/requests';

type Send = (gw: TestGateway) => Promise<Response>;

const tokens = (gw: TestGateway) => gw.emulator.seed!.tokens;
const v1 =
  (op: string, body: unknown, app = 'demo-oauth', sub?: string): Send =>
  (gw) =>
    gw.post(`/v1/apps/${app}/${op}`, typeof body === 'function' ? body(gw) : body, sub);
const own = (gw: TestGateway) => ({ access_token: tokens(gw).octocatOauth });

const ANSWERS: [string, number, Send][] = [
  ['reset: the new token', 200, v1('token/reset', own)],
  [
    'scoped: the new token',
    200,
    v1(
      'token/scoped',
      (gw: TestGateway) => ({ access_token: tokens(gw).octocatGithubApp, target: 'octocat' }),
      'demo-github-app',
    ),
  ],
  ['check', 200, v1('token/check', own)],
  ['delete', 204, v1('token/delete', own)],
  ['grant delete', 204, v1('grant/delete', own)],
  ['check of an unknown token', 404, v1('token/check', { access_token: 'gho_' + 'z'.repeat(36) })],
  ['reset of an unknown token', 404, v1('token/reset', { access_token: 'gho_' + 'z'.repeat(36) })],
  ['a schema failure', 422, v1('token/reset', { access_token: 7 })],
  ['an unknown app', 404, v1('token/reset', own, 'no-such-app')],
  ['a forbidden operation', 403, v1('token/reset', own, 'demo-oauth', 'svc-readonly')],
  [
    'no caller',
    401,
    (gw) => gw.request('/v1/apps/demo-oauth/token/reset', { method: 'POST', body: '{}' }),
  ],
  [
    'an oversized body',
    413,
    (gw) => gw.post('/v1/apps/demo-oauth/token/reset', { access_token: 'a'.repeat(70_000) }),
  ],
  [
    'GHES failing on a reset',
    502,
    (gw) => (
      gw.emulator.addFault({ status: 500, operation: 'reset' }),
      gw.post('/v1/apps/demo-oauth/token/reset', own(gw))
    ),
  ],
  ['introspection', 200, (gw) => introspect(gw, { token: tokens(gw).octocatOauth })],
  [
    'introspection without a caller',
    401,
    (gw) => introspect(gw, { token: tokens(gw).octocatOauth }, { authorization: null }),
  ],
  ['an unknown path', 404, (gw) => gw.request('/nowhere')],
  ['no caller on an unknown /v1 path', 401, (gw) => gw.request('/v1/nowhere')],
  ['a forward-auth denial', 401, (gw) => forwardAuth(gw, '/forward-auth', 'gho_' + 'q'.repeat(36))],
];

describe('Cache-Control: no-store and Pragma: no-cache', () => {
  it.each(ANSWERS)('%s (%i)', async (_name, status, send) => {
    const gw = await createTestGateway();
    const res = await send(gw);
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
  });

  it('a reset answer carries a new token, and still nothing may store it', async () => {
    const gw = await createTestGateway();
    const res = await gw.post('/v1/apps/demo-oauth/token/reset', own(gw));
    const body = (await res.json()) as { token?: string };
    expect(body.token).toMatch(/^gho_/);
    expect(body.token).not.toBe(tokens(gw).octocatOauth);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
  });
});
