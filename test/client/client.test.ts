/**
 * The typed client (client/) against the real gateway (test/helpers/gateway.ts, in front of the
 * GHES emulator): each common call is one line and typed; problems arrive as GatewayProblem with
 * the gateway's code, status and request id; the caller JWT travels in the header each route reads
 * it from, and no token ever travels in a URL.
 */
import { describe, expect, it } from 'vitest';
import { GatewayProblem, type ProblemCode } from '../../client/src/index';
import {
  createTestGateway,
  GATEWAY_URL,
  seedTokens,
  TEST_REDIRECT_URI,
  type TestGateway,
} from '../helpers/gateway';
import { issueCode } from '../routes/oauth-token.harness';
import { clientFor, rejection, type Sent } from './harness';

const OAUTH = 'demo-oauth';
/** Well formed for an OAuth app, unknown to GHES. */
const UNKNOWN = `gho_${'A'.repeat(36)}`;

/** No URL the client sent holds any of `secrets`; each travelled somewhere else. */
function expectNotInUrls(sent: readonly Sent[], secrets: readonly string[]): void {
  for (const { url } of sent)
    for (const secret of secrets) {
      expect(url).not.toContain(secret);
      expect(decodeURIComponent(url)).not.toContain(secret);
    }
}

/** The request id the gateway's audit line gave its one request. */
function loggedRequestId(gw: TestGateway): unknown {
  const lines = gw.logs.filter((r) => r['event'] === 'request');
  expect(lines).toHaveLength(1);
  return lines[0]?.['request_id'];
}

describe('tokens', () => {
  it('check: one call answers the typed authorization; the JWT in Authorization, the token in the body', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const { client, sent, jwts } = clientFor(gw);

    const authorization = await client.check(OAUTH, token);

    expect(authorization.user?.login).toBe('octocat');
    expect(authorization.scopes).toEqual(['repo', 'read:org']);
    expect(authorization.token_last_eight).toBe(token.slice(-8));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      method: 'POST',
      url: `${GATEWAY_URL}/v1/apps/${OAUTH}/token/check`,
      body: JSON.stringify({ access_token: token }),
      redirect: 'manual',
    });
    expect(sent[0]?.headers['authorization']).toBe(`Bearer ${jwts[0]}`);
    expect(sent[0]?.headers).not.toHaveProperty('x-gateway-authorization');
    expectNotInUrls(sent, [token, ...jwts]);
  });

  it('a token GHES does not know: GatewayProblem token-not-found, 404, with the request id', async () => {
    const gw = await createTestGateway();
    const { client } = clientFor(gw);

    const e = await rejection(client.check(OAUTH, UNKNOWN));

    expect(e).toBeInstanceOf(GatewayProblem);
    const problem = e as GatewayProblem;
    const code: ProblemCode = problem.code;
    expect(code).toBe('token-not-found');
    expect(problem.status).toBe(404);
    expect(problem.request_id).toBe(loggedRequestId(gw));
    expect(problem.type).toMatch(/token-not-found$/);
    expect(problem.message).toBe(`404 token-not-found: ${problem.detail}`);
    expect(problem.message).not.toContain(UNKNOWN);
  });

  it('delete: answers nothing, and the token is gone for the next check', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).monalisaOauth;
    const { client } = clientFor(gw);

    expect(await client.deleteToken(OAUTH, token)).toBeUndefined();
    expect(((await rejection(client.check(OAUTH, token))) as GatewayProblem).code).toBe(
      'token-not-found',
    );
  });

  it('a caller JWT the gateway refuses: GatewayProblem unauthorized, 401', async () => {
    const gw = await createTestGateway();
    const { client, sent } = clientFor(gw, {
      callerJwt: () => gw.caller('svc-demo', { aud: 'another-gateway' }),
    });

    const e = await rejection(client.check(OAUTH, seedTokens(gw).octocatOauth));

    expect(e).toBeInstanceOf(GatewayProblem);
    expect(e).toMatchObject({ code: 'unauthorized', status: 401 });
    expect((e as GatewayProblem).request_id).toBe(loggedRequestId(gw));
    expect(sent).toHaveLength(1);
  });

  it('no caller JWT: refused before anything is sent', async () => {
    const gw = await createTestGateway();
    const { client, sent } = clientFor(gw, { callerJwt: () => '' });

    const e = await rejection(client.check(OAUTH, seedTokens(gw).octocatOauth));

    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(/callerJwt\(\) did not return a compact JWT/);
    expect(sent).toEqual([]);
  });

  it('asks callerJwt for every request that needs one, so it may refresh; public routes get none', async () => {
    const gw = await createTestGateway();
    const { client, sent, jwts } = clientFor(gw);

    const health = await client.api.GET('/healthz');
    expect(health.data).toEqual({ status: 'ok' });
    expect(jwts).toEqual([]);
    expect(sent[0]?.headers).not.toHaveProperty('authorization');

    await client.check(OAUTH, seedTokens(gw).octocatOauth);
    await client.check(OAUTH, seedTokens(gw).octocatOauth);
    expect(jwts).toHaveLength(2);
  });

  it('exchangeCode: the code and redirect URI in the body; the new token checks', async () => {
    const gw = await createTestGateway();
    const code = await issueCode(gw, OAUTH, { scopes: ['repo'] });
    const { client, sent } = clientFor(gw);

    const issued = await client.exchangeCode(OAUTH, { code, redirect_uri: TEST_REDIRECT_URI });

    expect(issued.access_token).toMatch(/^gho_/);
    expect(issued.scope).toBe('repo');
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: TEST_REDIRECT_URI,
    });
    expect((await client.check(OAUTH, issued.access_token)).scopes).toEqual(['repo']);
    expectNotInUrls(sent, [code, issued.access_token]);
  });
});

describe('introspection', () => {
  it('the token in a form body; active with the user, or { active: false }', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const { client, sent, jwts } = clientFor(gw);

    const active = await client.introspect(token);
    expect(active).toMatchObject({ active: true, username: 'octocat', token_type: 'bearer' });
    expect(sent[0]).toMatchObject({
      method: 'POST',
      url: `${GATEWAY_URL}/introspect`,
      body: new URLSearchParams({ token }).toString(),
    });
    expect(sent[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent[0]?.headers['authorization']).toBe(`Bearer ${jwts[0]}`);

    expect(await client.introspect(UNKNOWN, { app: OAUTH })).toEqual({ active: false });
    expect(new URLSearchParams(sent[1]?.body).get('app')).toBe(OAUTH);
    expectNotInUrls(sent, [token, UNKNOWN, ...jwts]);
  });
});

describe('forward auth', () => {
  it('the end user token in Authorization, the caller JWT in X-Gateway-Authorization; X-Auth-* parsed', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const { client, sent, jwts } = clientFor(gw);

    const allowed = await client.forwardAuth(token, { app: OAUTH, scopes: ['repo'] });

    expect(allowed).toEqual({
      user: 'octocat',
      userId: '1',
      scopes: ['repo', 'read:org'],
      app: OAUTH,
      clientId: gw.apps.find((a) => a.name === OAUTH)?.client_id,
      tokenExpires: undefined,
    });
    expect(sent[0]).toMatchObject({
      method: 'GET',
      url: `${GATEWAY_URL}/forward-auth?app=${OAUTH}&scope=repo`,
      body: '',
      redirect: 'manual',
    });
    expect(sent[0]?.headers['authorization']).toBe(`Bearer ${token}`);
    expect(sent[0]?.headers['x-gateway-authorization']).toBe(`Bearer ${jwts[0]}`);
    expectNotInUrls(sent, [token, ...jwts]);
  });

  it('a denial is a GatewayProblem: insufficient-scope with missing_scopes, invalid-token', async () => {
    const gw = await createTestGateway();
    const { client } = clientFor(gw);

    const scope = await rejection(
      client.forwardAuth(seedTokens(gw).octocatOauth, { scopes: ['admin:org'] }),
    );
    expect(scope).toBeInstanceOf(GatewayProblem);
    expect(scope).toMatchObject({ code: 'insufficient-scope', status: 403 });
    expect((scope as GatewayProblem).problem['missing_scopes']).toEqual(['admin:org']);

    const inactive = await rejection(client.forwardAuth(UNKNOWN));
    expect(inactive).toMatchObject({ code: 'invalid-token', status: 401 });
    expect((inactive as GatewayProblem).problem['credential']).toBe('end_user');
  });

  it('a token-shaped value bound for the URL is refused before anything is sent', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const { client, sent } = clientFor(gw);

    const e = await rejection(client.forwardAuth(token, { scopes: [token] }));

    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).not.toContain(token);
    expect(sent).toEqual([]);
  });
});
