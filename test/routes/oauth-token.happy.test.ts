/**
 * POST /v1/apps/{app}/oauth/token, end to end against the emulator: code exchange for an OAuth
 * app and a GitHub App, refresh of an expiring GitHub-App token, on GHES 2.22, 3.3 and 3.22.
 * Every one of them issues expiring GitHub-App user tokens (2.22+); before 3.2 tokens are 40 hex
 * characters and refresh tokens `r1.` + 80 hex, from 3.2 `gho_` / `ghu_` and `ghr_` (GitHub's
 * docs examples, emulator/README.md): the gateway carries either.
 */
import { describe, expect, it } from 'vitest';
import { createTestGateway } from '../helpers/gateway';
import { introspect } from '../introspection/requests';
import {
  GH_APP,
  OAUTH,
  codeGrant,
  issueCode,
  refreshGrant,
  s256,
  signIn,
  tokenPath,
  webCalls,
  type TokenAnswer,
} from './oauth-token.harness';

const check = (token: string) => ({ access_token: token });

/** Token formats by release: 40 hex before 3.2, prefixed from 3.2. */
const FORMATS = {
  '2.22': { oauth: /^[0-9a-f]{40}$/, app: /^[0-9a-f]{40}$/, refresh: /^r1\.[0-9a-f]{80}$/ },
  '3.3': { oauth: /^gho_\w{36}$/, app: /^ghu_\w{36}$/, refresh: /^ghr_\w{76}$/ },
  '3.22': { oauth: /^gho_\w{36}$/, app: /^ghu_\w{36}$/, refresh: /^ghr_\w{76}$/ },
} as const;

describe.each(['2.22', '3.3', '3.22'] as const)('GHES %s', (version) => {
  const format = FORMATS[version];

  it('an OAuth app: the code becomes a token with its scopes; no expiry, no refresh token', async () => {
    const gw = await createTestGateway({ version });
    const code = await issueCode(gw, OAUTH, { scopes: ['repo', 'read:org'] });
    const res = await gw.post(tokenPath(OAUTH), codeGrant(code));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as TokenAnswer;
    expect(body).toEqual({
      access_token: expect.stringMatching(format.oauth),
      token_type: 'bearer',
      scope: 'repo,read:org',
    });
    expect(webCalls(gw)).toBe(1);
    // The new token is a token like any other: it checks through the gateway.
    const checked = await gw.post(`/v1/apps/${OAUTH}/token/check`, check(body.access_token));
    expect(checked.status).toBe(200);
    expect(((await checked.json()) as { user: { login: string } }).user.login).toBe('octocat');
  });

  it('a GitHub App: an expiring user token and a refresh token', async () => {
    const gw = await createTestGateway({ version });
    const body = await signIn(gw, GH_APP);
    expect(body).toEqual({
      access_token: expect.stringMatching(format.app),
      token_type: 'bearer',
      scope: '',
      expires_in: 28800,
      refresh_token: expect.stringMatching(format.refresh),
      refresh_token_expires_in: 15897600,
    });
    // It expires in 8 hours, as GHES says when the gateway checks it.
    const res = await introspect(gw, { token: body.access_token, app: GH_APP });
    const answer = (await res.json()) as { active: boolean; exp: number; iat: number };
    expect(answer.active).toBe(true);
    expect(answer.exp - answer.iat).toBe(28800);
  });

  it('a refresh mints a new pair; the old user token, though cached active, answers 404 at once', async () => {
    const gw = await createTestGateway({ version });
    const first = await signIn(gw, GH_APP);
    const before = await gw.post(`/v1/apps/${GH_APP}/token/check`, check(first.access_token));
    expect(before.status).toBe(200);
    const cached = await gw.post(`/v1/apps/${GH_APP}/token/check`, check(first.access_token));
    expect(cached.headers.get('cache-status')).toContain('hit');

    const res = await gw.post(tokenPath(GH_APP), refreshGrant(first.refresh_token ?? ''));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const second = (await res.json()) as TokenAnswer;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.expires_in).toBe(28800);

    const old = await gw.post(`/v1/apps/${GH_APP}/token/check`, check(first.access_token));
    expect(old.status).toBe(404);
    const fresh = await gw.post(`/v1/apps/${GH_APP}/token/check`, check(second.access_token));
    expect(fresh.status).toBe(200);
    expect(second.access_token).toMatch(format.app);
    expect(second.refresh_token).toMatch(format.refresh);
    // /introspect agrees: the old token is inactive, the new one active.
    const introspected = async (token: string) =>
      ((await (await introspect(gw, { token, app: GH_APP })).json()) as { active: boolean }).active;
    expect(await introspected(first.access_token)).toBe(false);
    expect(await introspected(second.access_token)).toBe(true);
    // The old refresh token was spent.
    const again = await gw.post(tokenPath(GH_APP), refreshGrant(first.refresh_token ?? ''));
    expect(again.status).toBe(400);
    expect(((await again.json()) as { code: string }).code).toBe('refresh-token-invalid');
    // The audit line says the grant epoch moved.
    const audit = gw.logs.find((l) => l['event'] === 'audit' && l['operation'] === 'refresh');
    expect(audit?.['invalidation']).toBe('grant_epoch');
  });
});

describe.each(['2.22', '3.3', '3.22'])('GHES %s: PKCE', (version) => {
  it('the verifier is passed on; this release does not check it (no GHES release does)', async () => {
    const gw = await createTestGateway({ version });
    const verifier = 'a'.repeat(43);
    const exchange = async (v: string) => {
      const code = await issueCode(gw, OAUTH, { code_challenge: await s256(verifier) });
      return gw.post(tokenPath(OAUTH), codeGrant(code, { code_verifier: v }));
    };
    // GHES ignores the challenge: a wrong verifier still gets a token.
    expect((await exchange('b'.repeat(43))).status).toBe(200);
    // Switched to github.com's PKCE, the emulator decides by the verifier the gateway passed on.
    gw.emulator.configure({ pkce: true });
    const refused = await exchange('b'.repeat(43));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe('code-invalid');
    expect((await exchange(verifier)).status).toBe(200);
  });
});

describe('the audit line', () => {
  it('a code exchange is an audit event naming the operation and app, with the GHES status', async () => {
    const gw = await createTestGateway();
    await signIn(gw, OAUTH);
    const line = gw.logs.find((l) => l['route'] === '/v1/apps/:app/oauth/token');
    expect(line).toMatchObject({
      event: 'audit',
      operation: 'code_exchange',
      app: OAUTH,
      caller: 'svc-demo',
      status: 200,
      ghes_status: 200,
    });
  });
});

describe('the OpenAPI document', () => {
  it('describes the route, both grants and the answer', async () => {
    const gw = await createTestGateway();
    const doc = (await (await gw.request('/openapi.json')).json()) as {
      paths: Record<
        string,
        { post?: { requestBody?: unknown; responses?: Record<string, unknown> } }
      >;
      components: { schemas: Record<string, unknown> };
    };
    const op = doc.paths['/v1/apps/{app}/oauth/token']?.post;
    expect(op?.responses?.['200']).toBeDefined();
    expect(op?.responses?.['400']).toBeDefined();
    for (const name of ['AuthorizationCodeGrant', 'RefreshTokenGrant', 'OAuthToken'])
      expect(doc.components.schemas[name], name).toBeDefined();
  });
});
