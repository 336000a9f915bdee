/** `GET /user`: the Authorizations API's user authentication, counting, faults, API versions. */
import { describe, expect, it } from 'vitest';
import { createGhesEmulator, type GhesEmulator } from './index';
import { admin, basic, FIXED_NOW, GHES_ORIGIN, jsonOf } from './test-client';

function emulator(version = '3.22'): GhesEmulator {
  return createGhesEmulator({ version, now: () => FIXED_NOW });
}

function getUser(ghes: GhesEmulator, headers: Record<string, string> = {}): Promise<Response> {
  return ghes.fetch(`${GHES_ORIGIN}/api/v3/user`, { headers });
}

const asOctocat = (ghes: GhesEmulator) => ({
  authorization: basic('octocat', ghes.seed?.passwords['octocat'] ?? ''),
});

async function otp(ghes: GhesEmulator, login: string): Promise<string> {
  return (await jsonOf(await admin(ghes, 'GET', `users/${login}/otp`)))['otp'] as string;
}

describe('GET /user', () => {
  it('answers the user the Basic credentials belong to, never the password', async () => {
    const ghes = emulator();
    const res = await getUser(ghes, asOctocat(ghes));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({
      login: 'octocat',
      id: 1,
      node_id: 'MDQ6VXNlcjE=',
      type: 'User',
      site_admin: false,
      user_view_type: 'private',
      url: `${GHES_ORIGIN}/api/v3/users/octocat`,
      two_factor_authentication: false,
    });
    expect(text).not.toContain(ghes.seed?.passwords['octocat'] ?? '?');
  });

  it('serves a user added through the admin API', async () => {
    const ghes = emulator();
    const added = await jsonOf(
      await admin(ghes, 'POST', 'users', { login: 'hubot', password: 'pw-hubot-123' }),
    );
    const res = await getUser(ghes, { authorization: basic('hubot', 'pw-hubot-123') });
    expect(await jsonOf(res)).toMatchObject({ login: 'hubot', id: added['id'] });
  });

  it('answers 401 as the Authorizations API does', async () => {
    const ghes = emulator();
    const none = await getUser(ghes);
    expect(none.status).toBe(401);
    expect((await jsonOf(none))['message']).toBe('Requires authentication');
    const wrong = await getUser(ghes, { authorization: basic('octocat', 'nope') });
    expect(wrong.status).toBe(401);
    expect((await jsonOf(wrong))['message']).toBe('Bad credentials');
    expect(wrong.headers.get('x-github-otp')).toBeNull();
    // An organisation has no password to sign in with.
    const org = await getUser(ghes, { authorization: basic('octo-org', 'x') });
    expect(org.status).toBe(401);
  });

  it('asks a two-factor user for the OTP and accepts only the current one', async () => {
    const ghes = emulator();
    const authorization = basic('monalisa', ghes.seed?.passwords['monalisa'] ?? '');
    const challenged = await getUser(ghes, { authorization });
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('x-github-otp')).toBe('required; app');
    const code = await otp(ghes, 'monalisa');
    const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect((await getUser(ghes, { authorization, 'x-github-otp': wrongCode })).status).toBe(401);
    const ok = await getUser(ghes, { authorization, 'x-github-otp': code });
    expect(ok.status).toBe(200);
    expect(await jsonOf(ok)).toMatchObject({ login: 'monalisa', two_factor_authentication: true });
  });

  it('is counted as get_user, and faults can target it alone', async () => {
    const ghes = emulator();
    ghes.addFault({ status: 503, operation: 'get_user', times: 1 });
    const list = await ghes.fetch(`${GHES_ORIGIN}/api/v3/authorizations`, {
      headers: asOctocat(ghes),
    });
    expect(list.status).toBe(200);
    expect((await getUser(ghes, asOctocat(ghes))).status).toBe(503);
    expect((await getUser(ghes, asOctocat(ghes))).status).toBe(200);
    expect(ghes.calls()).toMatchObject({ get_user: 2, list_authorizations: 1 });
  });

  it('checks X-GitHub-Api-Version from 3.9, and has user_view_type from 3.13', async () => {
    const newer = emulator('3.9');
    const bad = await getUser(newer, { ...asOctocat(newer), 'x-github-api-version': '2020-01-01' });
    expect(bad.status).toBe(400);
    const older = emulator('3.8');
    const ignored = await getUser(older, {
      ...asOctocat(older),
      'x-github-api-version': '2020-01-01',
    });
    expect(ignored.status).toBe(200);
    expect(await jsonOf(ignored)).not.toHaveProperty('user_view_type');
    const v312 = emulator('3.12');
    expect(await jsonOf(await getUser(v312, asOctocat(v312)))).not.toHaveProperty('user_view_type');
  });
});
