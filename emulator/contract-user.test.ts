/**
 * Contract of `GET /user` (GitHub's `users/get-authenticated`), for every release whose
 * description the contract sources carry it in (npm's 2.18 – 2.22 and 3.4 – 3.19; ../shared
 * does not describe it): every answer, success and error, validates against that release.
 * The 200 answer is `oneOf: [private-user, public-user]` (public-user forbids the private
 * members); a user reading their own profile gets the private one, so the answer must meet
 * `private-user` itself, not merely the `oneOf`.
 */
import { describe, expect, it } from 'vitest';
import { ghesContract } from '../test/helpers/ghes-contract';
import { parseContract, ReleaseContract } from './contract-schema';
import { createGhesEmulator, KNOWN_VERSIONS, type GhesEmulator } from './index';
import { basic, FIXED_NOW, GHES_ORIGIN, jsonOf } from './test-client';

const versions = parseContract(ghesContract().user);

type Who = 'octocat' | 'monalisa' | 'wrong' | 'none';

async function getUser(ghes: GhesEmulator, who: Who, otp = false): Promise<Response> {
  const login = who === 'monalisa' ? 'monalisa' : 'octocat';
  const password = who === 'wrong' ? 'nope' : (ghes.seed?.passwords[login] ?? '');
  const headers: Record<string, string> = {};
  if (who !== 'none') headers['authorization'] = basic(login, password);
  if (otp) {
    const res = await ghes.fetch(`${GHES_ORIGIN}/_emulator/users/${login}/otp`);
    headers['x-github-otp'] = (await jsonOf(res))['otp'] as string;
  }
  return ghes.fetch(`${GHES_ORIGIN}/api/v3/user`, { headers });
}

const emulator = (version: string): GhesEmulator =>
  createGhesEmulator({ version, now: () => FIXED_NOW });

it('GET /user is described by the npm releases and served by every release', async () => {
  expect(Object.keys(versions)).toContain('2.18');
  expect(Object.keys(versions)).toContain('3.19');
  for (const version of KNOWN_VERSIONS) {
    const res = await getUser(emulator(version), 'octocat');
    expect(res.status, version).toBe(200);
  }
});

describe.each(Object.keys(versions))('GHES %s: GET /user', (version) => {
  const doc = versions[version];
  if (!doc) throw new Error(`no document for ${version}`);
  const contract = new ReleaseContract(version, doc);

  it('is described as private-user or public-user', () => {
    expect(contract.has('get_user')).toBe(true);
    const schema = contract.successSchema('get_user') as { oneOf: { $ref: string }[] };
    expect(schema.oneOf.map((s) => s.$ref.split('/').pop())).toEqual([
      'private-user',
      'public-user',
    ]);
  });

  it('the profile validates as private-user, for a user with and without 2FA', async () => {
    for (const [who, twoFactor] of [
      ['octocat', false],
      ['monalisa', true],
    ] as const) {
      const ghes = emulator(version);
      const res = await getUser(ghes, who, twoFactor);
      expect(res.status).toBe(200);
      const body = await jsonOf(res);
      expect(body).toMatchObject({
        login: who,
        id: who === 'octocat' ? 1 : 2,
        type: 'User',
        site_admin: false,
        two_factor_authentication: twoFactor,
      });
      expect(contract.check('get_user', 200, body).errors).toEqual([]);
      expect(contract.checkComponent('private-user', body)).toEqual([]);
      expect(contract.checkComponent('public-user', body)).not.toEqual([]);
      // Not vacuous: a profile without its login is refused.
      const { login: _l, ...withoutLogin } = body;
      expect(contract.check('get_user', 200, withoutLogin).errors).not.toEqual([]);
    }
  });

  it('every refusal validates against the release schema', async () => {
    const cases: { name: string; status: number; res: (g: GhesEmulator) => Promise<Response> }[] = [
      { name: 'no credentials', status: 401, res: (g) => getUser(g, 'none') },
      { name: 'wrong password', status: 401, res: (g) => getUser(g, 'wrong') },
      { name: 'OTP missing', status: 401, res: (g) => getUser(g, 'monalisa') },
      {
        name: 'server error',
        status: 500,
        res: (g) => (g.addFault({ status: 500 }), getUser(g, 'octocat')),
      },
      {
        name: 'secondary rate limit',
        status: 403,
        res: (g) => (
          g.addFault({ status: 403, secondary_rate_limit: true }),
          getUser(g, 'octocat')
        ),
      },
    ];
    for (const c of cases) {
      const res = await c.res(emulator(version));
      expect(res.status, c.name).toBe(c.status);
      const checked = contract.check('get_user', res.status, await res.json());
      expect(checked.errors, c.name).toEqual([]);
    }
  });
});
