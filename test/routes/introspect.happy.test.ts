import { describe, expect, it } from 'vitest';
import { DEMO_GITHUB_APP_CLIENT_ID, DEMO_OAUTH_CLIENT_ID } from '../../emulator/index';
import { createTestGateway, seedTokens } from '../helpers/gateway';
import { introspect } from '../introspection/requests';

const START_S = Date.UTC(2026, 10, 21, 12, 0, 0) / 1000;

function expectNoStore(res: Response): void {
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
}

describe('POST /introspect: active tokens', () => {
  it('answers an OAuth-app token with the RFC 7662 fields and the GitHub extras', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;

    const res = await introspect(gw, { token });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expectNoStore(res);
    expect(await res.json()).toStrictEqual({
      active: true,
      scope: 'repo read:org',
      client_id: DEMO_OAUTH_CLIENT_ID,
      username: 'octocat',
      sub: '1',
      token_type: 'bearer',
      iat: START_S,
      github: { token_last_eight: token.slice(-8), app: 'demo-oauth' },
    });
  });

  it('gives exp from expires_at and omits scope for a GitHub-App user token', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).monalisaGithubApp;

    const res = await introspect(gw, { token, app: 'demo-github-app' });

    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({
      active: true,
      client_id: DEMO_GITHUB_APP_CLIENT_ID,
      username: 'monalisa',
      sub: '2',
      token_type: 'bearer',
      exp: START_S + 8 * 3600,
      iat: START_S,
      github: { token_last_eight: token.slice(-8), app: 'demo-github-app' },
    });
  });

  it('includes the installation of a scoped token', async () => {
    const gw = await createTestGateway();
    const scopedRes = await gw.post('/v1/apps/demo-github-app/token/scoped', {
      access_token: seedTokens(gw).octocatGithubApp,
      target: 'octocat',
      permissions: { contents: 'read' },
    });
    expect(scopedRes.status).toBe(200);
    const scoped = (await scopedRes.json()) as {
      token: string;
      installation: { permissions: Record<string, string>; repository_selection: string };
    };

    const res = await introspect(gw, { token: scoped.token, app: 'demo-github-app' });

    const body = (await res.json()) as Record<string, unknown>;
    expect(body['active']).toBe(true);
    expect(body['github']).toStrictEqual({
      token_last_eight: scoped.token.slice(-8),
      app: 'demo-github-app',
      installation: {
        permissions: scoped.installation.permissions,
        repository_selection: scoped.installation.repository_selection,
        account: 'octocat',
      },
    });
    expect(scoped.installation.permissions).toMatchObject({ contents: 'read' });
  });

  it("uses the caller's default app when the request names none", async () => {
    const gw = await createTestGateway();
    // A demo-oauth token is active for the default app (demo-oauth) …
    const oauth = await introspect(
      gw,
      { token: seedTokens(gw).octocatOauth },
      { sub: 'svc-readonly' },
    );
    expect(((await oauth.json()) as { active: boolean }).active).toBe(true);
    // … and a GitHub-App token is not a demo-oauth token: GHES answers 404 for that client.
    const other = await introspect(gw, { token: seedTokens(gw).octocatGithubApp });
    expect(await other.json()).toStrictEqual({ active: false });
  });

  it('accepts token_type_hint values, empty parameters and unknown parameters', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    for (const extra of [
      { token_type_hint: 'access_token' },
      { token_type_hint: 'refresh_token' },
      { token_type_hint: 'urn:example:custom' },
      { token_type_hint: '', app: '' },
      { client_id: 'ignored', client_secret: 'ignored-too' },
    ]) {
      const res = await introspect(gw, { token, ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(200);
      expect(((await res.json()) as { active: boolean }).active).toBe(true);
    }
  });

  it('answers from the cache after the first check and says so in Cache-Status', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;

    const first = await introspect(gw, { token });
    const second = await introspect(gw, { token });

    expect(first.headers.get('cache-status')).toMatch(
      /^ghes-token-gateway; fwd=uri-miss; fwd-status=200/,
    );
    expect(second.headers.get('cache-status')).toMatch(
      /^ghes-token-gateway; hit; ttl=\d+; detail=l1$/,
    );
    expect(await second.json()).toStrictEqual(await first.json());
    expect(gw.emulator.calls().check).toBe(1);
  });
});

describe('POST /introspect: inactive tokens', () => {
  it('answers exactly {"active": false} for an unknown token, with no-store', async () => {
    const gw = await createTestGateway();
    const res = await introspect(gw, { token: 'gho_' + 'x'.repeat(36) });

    expect(res.status).toBe(200);
    expectNoStore(res);
    expect(await res.text()).toBe('{"active":false}');
    expect(res.headers.get('cache-status')).toBe('ghes-token-gateway; fwd=miss; stored');
  });

  it('answers inactive for a token revoked in GHES once the cache entry is no longer fresh', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).monalisaOauth;
    expect(((await (await introspect(gw, { token })).json()) as { active: boolean }).active).toBe(
      true,
    );

    gw.emulator.revokeToken(token);
    gw.clock.advance(61);

    expect(await (await introspect(gw, { token })).json()).toStrictEqual({ active: false });
  });

  it('answers inactive at once for a token deleted through the gateway', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).monalisaOauth;
    expect(((await (await introspect(gw, { token })).json()) as { active: boolean }).active).toBe(
      true,
    );

    expect(
      (await gw.post('/v1/apps/demo-oauth/token/delete', { access_token: token })).status,
    ).toBe(204);

    expect(await (await introspect(gw, { token })).json()).toStrictEqual({ active: false });
  });

  it('answers inactive once the token has expired', async () => {
    const gw = await createTestGateway();
    const { token } = gw.emulator.createToken({
      app: 'demo-oauth',
      login: 'octocat',
      expiresIn: 120,
    });
    const live = (await (await introspect(gw, { token })).json()) as {
      active: boolean;
      exp: number;
    };
    expect(live).toMatchObject({ active: true, exp: START_S + 120 });

    gw.clock.advance(120);

    expect(await (await introspect(gw, { token })).json()).toStrictEqual({ active: false });
  });

  it('answers inactive without asking GHES for a value no GitHub token can look like', async () => {
    const gw = await createTestGateway();
    for (const token of ['a'.repeat(256), 'has space', 'tab\there', 'é-non-ascii']) {
      const res = await introspect(gw, { token });
      expect(res.status).toBe(200);
      expect(await res.json()).toStrictEqual({ active: false });
    }
    expect(gw.emulator.calls().check).toBe(0);
  });
});
