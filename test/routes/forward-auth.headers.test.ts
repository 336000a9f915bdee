/**
 * App and required scopes from headers the API gateway's own config sets (Envoy appends the
 * client's query string to path_prefix, so there the query is the end user's to choose).
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway } from '../helpers/gateway';
import { forwardAuth } from '../introspection/requests';

describe('forward auth: X-Forward-Auth-App and X-Forward-Auth-Scope', () => {
  it('checks the token with the app named in the header', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({ app: 'demo-github-app', login: 'octocat' });
    const res = await forwardAuth(gw, '/forward-auth', token, {
      headers: { 'x-forward-auth-app': 'demo-github-app' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-auth-user')).toBe('octocat');
  });

  it('refuses a query app that differs from the header app, before any GHES call', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat' });
    const res = await forwardAuth(gw, '/forward-auth?app=demo-oauth', token, {
      headers: { 'x-forward-auth-app': 'demo-github-app' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'invalid-request' });
    expect(gw.emulator.calls()['check']).toBe(0);
  });

  it('requires the header scopes even when the query names none, and the query can only add', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({
      app: 'demo-oauth',
      login: 'octocat',
      scopes: ['repo'],
    });
    const denied = await forwardAuth(gw, '/forward-auth', token, {
      headers: { 'x-forward-auth-scope': 'repo admin:org' },
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    const allowed = await forwardAuth(gw, '/forward-auth', token, {
      headers: { 'x-forward-auth-scope': 'repo' },
    });
    expect(allowed.status).toBe(200);
    const added = await forwardAuth(gw, '/forward-auth?scope=admin:org', token, {
      headers: { 'x-forward-auth-scope': 'repo' },
    });
    expect(added.status).toBe(403);
  });

  it('refuses a malformed header app', async () => {
    const gw = await createTestGateway();
    const res = await forwardAuth(gw, '/forward-auth', 'gho_' + 'a'.repeat(36), {
      headers: { 'x-forward-auth-app': '../x' },
    });
    expect(res.status).toBe(400);
  });
});
