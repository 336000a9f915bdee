/**
 * A credential in the query string (src/middleware/token-in-query.ts) is refused on every route
 * with 400 `token-in-query`: the answer names the parameter, says the token is exposed and where
 * to send it, and neither the answer nor any log line holds the token or the query string.
 * Forward auth's own `?app=` and `?scope=` still pass.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { credentialParameter, plainlyClean } from '../../src/middleware/token-in-query';
import { createTestGateway, seedTokens, type TestGateway } from '../helpers/gateway';
import { forwardAuth } from '../introspection/requests';

/** The request line of `res` (one per request). */
function requestLine(gw: TestGateway, res: Response) {
  const id = res.headers.get('x-request-id');
  const lines = gw.logs.filter(
    (r) => r.request_id === id && (r.event === 'request' || r.event === 'audit'),
  );
  expect(lines).toHaveLength(1);
  return lines[0] as Record<string, unknown>;
}

describe('credentialParameter', () => {
  it.each([
    ['access_token=abc', 'access_token'],
    ['Access-Token=abc', 'Access-Token'],
    ['token=abc', 'token'],
    ['refresh_token=r', 'refresh_token'],
    ['client_secret=s', 'client_secret'],
    ['app=demo&x=gho_0123456789abcdefghijklmnopqrstuvwxyz', 'x'],
    ['q=github_pat_11ABC', 'q'],
    [`sha=${'a'.repeat(40)}`, 'sha'],
    ['gho_0123456789abcdefghijklmnopqrstuvwxyz=', 'gho_0123456789abcdefghijklmnopqrstuvwxyz'],
  ])('%s → %s', (query, name) => {
    expect(credentialParameter(new URLSearchParams(query))).toBe(name);
  });

  it.each([
    'app=demo-oauth&scope=repo&scope=read:org',
    'page=2&per_page=100',
    'token=',
    '',
    'note=tokens-are-great',
  ])('%j passes', (query) => {
    expect(credentialParameter(new URLSearchParams(query))).toBeUndefined();
  });
});

describe('plainlyClean: the unparsed fast path never lets a credential through', () => {
  it.each([
    'token=%67ho_0123456789abcdefghijklmnopqrstuvwxyz',
    'x=gh%6F_abc',
    'access%5Ftoken=abc',
    'Access-Token=abc',
    'app=demo&x=gho_0123456789abcdefghijklmnopqrstuvwxyz',
    `sha=${'a'.repeat(40)}`,
  ])('%s is parsed, not waved through', (query) => {
    expect(plainlyClean(query)).toBe(false);
  });

  it.each(['app=demo-oauth', 'app=demo-oauth&scope=repo&scope=read:org', 'token=', ''])(
    '%j needs no parsing',
    (query) => expect(plainlyClean(query)).toBe(true),
  );

  it('whatever the query, plainly clean implies no credential parameter (property)', () => {
    const piece = fc.constantFrom(
      'app',
      'token',
      'Access-Token',
      'access_token',
      'api-key',
      'password',
      'scope',
      'gho_',
      'gh',
      'o_',
      '%6F',
      '%5F',
      '%',
      '+',
      '&',
      '=',
      'x',
      'A',
      '0',
      'f',
      'github_pat_',
      'a'.repeat(20),
      'abcdef0123456789',
      'Z'.repeat(18),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (parts) => {
        const query = parts.join('');
        if (plainlyClean(query))
          expect(credentialParameter(new URLSearchParams(query))).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a credential in the query string', () => {
  it('is refused on a /v1 route, before GHES, with a problem that names the parameter only', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const res = await gw.post(`/v1/apps/demo-oauth/token/check?access_token=${token}`, {
      access_token: token,
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await res.text();
    expect(text).not.toContain(token);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'token-in-query', status: 400 });
    expect(body['detail']).toMatch(/"access_token"/);
    expect(body['detail']).toMatch(/exposed/);
    expect(body['detail']).toMatch(/Authorization header/);
    expect(gw.emulator.calls().check ?? 0).toBe(0);
    expect(requestLine(gw, res)).toMatchObject({
      status: 400,
      outcome: 'token-in-query',
      error_code: 'token-in-query',
      route: '/*',
    });
    for (const line of gw.logs) {
      const json = JSON.stringify(line);
      expect(json).not.toContain(token);
      expect(json).not.toContain('access_token=');
    }
  });

  it('is refused on public routes and on paths no route serves', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    for (const path of [`/healthz?t=${token}`, `/nowhere?token=x`, `/openapi.json?token=y`]) {
      const res = await gw.request(path);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('token-in-query');
    }
  });

  it('withholds a parameter name that is itself credential-shaped', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const res = await gw.request(`/healthz?${token}`);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain(token);
    expect(text).toContain('(withheld)');
  });

  it('through forward auth, even when the end user appended it (Envoy passes the query on)', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const res = await forwardAuth(gw, `/forward-auth/api?access_token=${token}`, token);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain(token);
  });
});

describe('a query without credentials', () => {
  it("passes: forward auth's app and scope, an empty token parameter", async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const res = await forwardAuth(gw, '/forward-auth?app=demo-oauth&scope=repo', token);
    expect(res.status).toBe(200);
    expect((await gw.request('/healthz?token=')).status).toBe(200);
  });
});
