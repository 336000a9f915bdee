/**
 * The web flow's token endpoint: code exchange, refresh, GitHub's 200-with-error answers, the
 * formats `Accept` picks, code expiry on the injected clock, release gates and PKCE.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createGhesEmulator, type GhesEmulator } from './index';
import { admin, call, credentials, FIXED_NOW, GHES_ORIGIN, jsonOf } from './test-client';

let now = FIXED_NOW;
let ghes: GhesEmulator;

function emulator(options: { version?: string; pkce?: boolean } = {}): GhesEmulator {
  now = FIXED_NOW;
  return createGhesEmulator({ ...options, now: () => now });
}

beforeEach(() => {
  ghes = emulator();
});

async function authorize(body: Record<string, unknown>): Promise<string> {
  const res = await admin(ghes, 'POST', 'oauth/codes', { login: 'octocat', ...body });
  expect(res.status).toBe(201);
  return (await jsonOf(res))['code'] as string;
}

function exchange(
  params: Record<string, string>,
  options: { accept?: string; json?: boolean; query?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.accept !== undefined) headers['accept'] = options.accept;
  const query = options.query ? `?${new URLSearchParams(params).toString()}` : '';
  let body: string | undefined;
  if (!options.query) {
    headers['content-type'] = options.json
      ? 'application/json'
      : 'application/x-www-form-urlencoded';
    body = options.json ? JSON.stringify(params) : new URLSearchParams(params).toString();
  }
  return ghes.fetch(`${GHES_ORIGIN}/login/oauth/access_token${query}`, {
    method: 'POST',
    headers,
    ...(body !== undefined && { body }),
  });
}

function client(app: string): { client_id: string; client_secret: string } {
  const { clientId, secret } = credentials(ghes, app);
  return { client_id: clientId, client_secret: secret };
}

async function tokenJson(params: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await exchange(params, { accept: 'application/json' });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return jsonOf(res);
}

async function checks(app: string, token: string): Promise<number> {
  return (await call(ghes, 'check', app, { token })).status;
}

describe('exchanging a code', () => {
  it('gives an OAuth app a token that never expires, urlencoded by default', async () => {
    const code = await authorize({ app: 'demo-oauth', scopes: ['repo', 'gist'] });
    const res = await exchange({ ...client('demo-oauth'), code });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const answer = new URLSearchParams(await res.text());
    expect([...answer.keys()]).toEqual(['access_token', 'scope', 'token_type']);
    expect(answer.get('scope')).toBe('repo,gist');
    expect(answer.get('token_type')).toBe('bearer');
    const token = answer.get('access_token') ?? '';
    expect(token).toMatch(/^gho_/);
    const check = await jsonOf(await call(ghes, 'check', 'demo-oauth', { token }));
    expect(check['scopes']).toEqual(['repo', 'gist']);
    expect(check['expires_at']).toBeNull();
  });

  it('gives a GitHub App an 8-hour token and a 6-month refresh token (JSON body and Accept)', async () => {
    const code = await authorize({ app: 'demo-github-app' });
    const res = await exchange(
      { ...client('demo-github-app'), code },
      { accept: 'application/json', json: true },
    );
    const answer = await jsonOf(res);
    expect(Object.keys(answer)).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'refresh_token_expires_in',
      'scope',
      'token_type',
    ]);
    expect(answer).toMatchObject({
      expires_in: 28800,
      refresh_token_expires_in: 15897600,
      scope: '',
    });
    expect(answer['access_token']).toMatch(/^ghu_[A-Za-z0-9]{36}$/);
    expect(answer['refresh_token']).toMatch(/^ghr_[A-Za-z0-9]{76}$/);
    const token = answer['access_token'] as string;
    expect(await checks('demo-github-app', token)).toBe(200);
    now += 28_800_000;
    expect(await checks('demo-github-app', token)).toBe(404);
  });

  it('takes parameters from the query string and answers XML when asked', async () => {
    const code = await authorize({ app: 'demo-oauth' });
    const res = await exchange(
      { ...client('demo-oauth'), code },
      { query: true, accept: 'application/xml' },
    );
    const text = await res.text();
    expect(text).toMatch(
      /^<OAuth><access_token>gho_[A-Za-z0-9]{36}<\/access_token><scope><\/scope><token_type>bearer<\/token_type><\/OAuth>$/,
    );
  });

  it('works once', async () => {
    const code = await authorize({ app: 'demo-oauth' });
    expect(await tokenJson({ ...client('demo-oauth'), code })).toHaveProperty('access_token');
    expect((await tokenJson({ ...client('demo-oauth'), code }))['error']).toBe(
      'bad_verification_code',
    );
  });

  it('expires after 10 minutes on the emulator clock', async () => {
    const code = await authorize({ app: 'demo-oauth' });
    now += 10 * 60 * 1000 - 1;
    const fresh = await authorize({ app: 'demo-oauth' });
    expect(await tokenJson({ ...client('demo-oauth'), code })).toHaveProperty('access_token');
    now += 10 * 60 * 1000;
    expect(await tokenJson({ ...client('demo-oauth'), code: fresh })).toEqual({
      error: 'bad_verification_code',
      error_description: 'The code passed is incorrect or expired.',
      error_uri:
        'https://docs.github.com/enterprise-server@3.22/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
    });
  });

  it("refuses another app's code, wrong client credentials and a mismatched redirect_uri", async () => {
    const code = await authorize({ app: 'demo-oauth', redirect_uri: 'https://app.example/cb' });
    expect((await tokenJson({ ...client('demo-github-app'), code }))['error']).toBe(
      'bad_verification_code',
    );
    const wrong = { ...client('demo-oauth'), client_secret: 'x'.repeat(40) };
    expect(await tokenJson({ ...wrong, code })).toMatchObject({
      error: 'incorrect_client_credentials',
      error_description: 'The client_id and/or client_secret passed are incorrect.',
    });
    expect((await tokenJson({ client_id: wrong.client_id, code }))['error']).toBe(
      'incorrect_client_credentials',
    );
    const mismatch = await tokenJson({
      ...client('demo-oauth'),
      code,
      redirect_uri: 'https://evil.example/cb',
    });
    expect(mismatch['error']).toBe('redirect_uri_mismatch');
    // A refused exchange leaves the code usable; the matching redirect_uri redeems it.
    const ok = await tokenJson({
      ...client('demo-oauth'),
      code,
      redirect_uri: 'https://app.example/cb',
    });
    expect(ok).toHaveProperty('access_token');
  });

  it('answers unsupported_grant_type for other grants, with HTTP 200', async () => {
    const answer = await tokenJson({ ...client('demo-oauth'), grant_type: 'password' });
    expect(answer['error']).toBe('unsupported_grant_type');
  });
});

describe('refreshing', () => {
  async function githubAppTokens(): Promise<{ access: string; refresh: string }> {
    const code = await authorize({ app: 'demo-github-app' });
    const answer = await tokenJson({ ...client('demo-github-app'), code });
    return { access: answer['access_token'] as string, refresh: answer['refresh_token'] as string };
  }

  it('retires the old access token and the old refresh token', async () => {
    const first = await githubAppTokens();
    now += 60_000;
    const answer = await tokenJson({
      ...client('demo-github-app'),
      grant_type: 'refresh_token',
      refresh_token: first.refresh,
    });
    const next = answer['access_token'] as string;
    expect(next).not.toBe(first.access);
    expect(answer['refresh_token']).not.toBe(first.refresh);
    expect(await checks('demo-github-app', first.access)).toBe(404);
    const check = await jsonOf(await call(ghes, 'check', 'demo-github-app', { token: next }));
    expect(check['expires_at']).toBe(new Date(now + 28_800_000).toISOString().replace('.000', ''));
    const again = await tokenJson({
      ...client('demo-github-app'),
      grant_type: 'refresh_token',
      refresh_token: first.refresh,
    });
    expect(again).toMatchObject({
      error: 'bad_refresh_token',
      error_description: 'The refresh token passed is incorrect or expired.',
    });
  });

  it('works after the access token expired, not after 6 months, nor for another app', async () => {
    const first = await githubAppTokens();
    now += 9 * 3600_000;
    const wrongApp = await tokenJson({
      ...client('demo-oauth'),
      grant_type: 'refresh_token',
      refresh_token: first.refresh,
    });
    expect(wrongApp['error']).toBe('bad_refresh_token');
    const answer = await tokenJson({
      ...client('demo-github-app'),
      grant_type: 'refresh_token',
      refresh_token: first.refresh,
    });
    expect(await checks('demo-github-app', answer['access_token'] as string)).toBe(200);
    now += 15_897_600_000;
    const late = await tokenJson({
      ...client('demo-github-app'),
      grant_type: 'refresh_token',
      refresh_token: answer['refresh_token'] as string,
    });
    expect(late['error']).toBe('bad_refresh_token');
  });

  it('dies with the grant', async () => {
    const first = await githubAppTokens();
    expect((await call(ghes, 'grant', 'demo-github-app', { token: first.access })).status).toBe(
      204,
    );
    const answer = await tokenJson({
      ...client('demo-github-app'),
      grant_type: 'refresh_token',
      refresh_token: first.refresh,
    });
    expect(answer['error']).toBe('bad_refresh_token');
  });
});

describe('release gates', () => {
  it('before 2.22 a GitHub App gets a token that does not expire and no refresh token', async () => {
    ghes = emulator({ version: '2.21' });
    const code = await authorize({ app: 'demo-github-app' });
    const answer = await tokenJson({ ...client('demo-github-app'), code });
    expect(Object.keys(answer)).toEqual(['access_token', 'scope', 'token_type']);
    expect(answer['access_token']).toMatch(/^[0-9a-f]{40}$/);
  });

  it('2.22 – 3.1 refresh tokens are r1. and 80 hex characters', async () => {
    ghes = emulator({ version: '3.1' });
    const code = await authorize({ app: 'demo-github-app' });
    expect((await tokenJson({ ...client('demo-github-app'), code }))['refresh_token']).toMatch(
      /^r1\.[0-9a-f]{80}$/,
    );
  });
});

describe('PKCE', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'; // RFC 7636 appendix B

  it('is off on every GHES release: the challenge is ignored', async () => {
    const code = await authorize({
      app: 'demo-oauth',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(
      await tokenJson({ ...client('demo-oauth'), code, code_verifier: 'wrong' }),
    ).toHaveProperty('access_token');
    expect((await admin(ghes, 'GET', 'config').then(jsonOf))['pkce']).toBeNull();
  });

  it('when configured on (github.com), checks S256 and refuses plain', async () => {
    ghes = emulator({ pkce: true });
    const plain = await admin(ghes, 'POST', 'oauth/codes', {
      app: 'demo-oauth',
      login: 'octocat',
      code_challenge: verifier,
      code_challenge_method: 'plain',
    });
    expect(plain.status).toBe(400);
    const code = await authorize({
      app: 'demo-oauth',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect((await tokenJson({ ...client('demo-oauth'), code }))['error']).toBe(
      'bad_verification_code',
    );
    expect(
      (await tokenJson({ ...client('demo-oauth'), code, code_verifier: `${verifier}x` }))['error'],
    ).toBe('bad_verification_code');
    expect(
      await tokenJson({ ...client('demo-oauth'), code, code_verifier: verifier }),
    ).toHaveProperty('access_token');
  });

  it('can be switched by POST /_emulator/config', async () => {
    expect((await admin(ghes, 'POST', 'config', { pkce: true })).status).toBe(200);
    const code = await authorize({
      app: 'demo-oauth',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(
      (await tokenJson({ ...client('demo-oauth'), code, code_verifier: 'nope' }))['error'],
    ).toBe('bad_verification_code');
  });
});

describe('counts and faults', () => {
  it('counts oauth_access_token and lets faults target it', async () => {
    ghes.addFault({ operation: 'oauth_access_token', status: 503, times: 1 });
    const code = await authorize({ app: 'demo-oauth' });
    expect((await exchange({ ...client('demo-oauth'), code })).status).toBe(503);
    expect(await tokenJson({ ...client('demo-oauth'), code })).toHaveProperty('access_token');
    expect(ghes.calls().oauth_access_token).toBe(2);
    expect(ghes.calls().check).toBe(0);
  });

  it('commit_then_fail: the code is spent although the answer is lost', async () => {
    ghes.addFault({
      operation: 'oauth_access_token',
      commit_then_fail: true,
      status: 502,
      times: 1,
    });
    const code = await authorize({ app: 'demo-oauth' });
    expect((await exchange({ ...client('demo-oauth'), code })).status).toBe(502);
    expect((await tokenJson({ ...client('demo-oauth'), code }))['error']).toBe(
      'bad_verification_code',
    );
    expect(ghes.state.tokens.size).toBe(5);
  });
});

describe('admin: codes', () => {
  it('refuses unknown apps and scopes for GitHub Apps', async () => {
    expect(
      (await admin(ghes, 'POST', 'oauth/codes', { app: 'nope', login: 'octocat' })).status,
    ).toBe(400);
    expect(
      (
        await admin(ghes, 'POST', 'oauth/codes', {
          app: 'demo-github-app',
          login: 'octocat',
          scopes: ['repo'],
        })
      ).status,
    ).toBe(400);
    expect(
      (await admin(ghes, 'POST', 'oauth/codes', { app: 'demo-oauth', login: 'octocat', extra: 1 }))
        .status,
    ).toBe(400);
  });
});
