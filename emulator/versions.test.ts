/**
 * Version gating: which endpoints each GHES release serves and how its `authorization` looks.
 * contract.test.ts checks the same gates against GitHub's descriptions of every release; these
 * tests pin the boundaries the issue names (2.19/2.20, 2.22/3.0, 3.3/3.4).
 */
import { describe, expect, it } from 'vitest';
import {
  createGhesEmulator,
  TOKEN_OPERATIONS,
  type GhesEmulator,
  type TokenOperation,
} from './index';
import { call, FIXED_NOW, jsonOf } from './test-client';

function emulator(version: string): GhesEmulator {
  return createGhesEmulator({ version, now: () => FIXED_NOW });
}

function validCall(ghes: GhesEmulator, op: TokenOperation): Promise<Response> {
  const t = ghes.seed?.tokens;
  if (!t) throw new Error('demo seed missing');
  const github = op === 'scoped';
  return call(ghes, op, github ? 'demo-github-app' : 'demo-oauth', {
    token: github ? t.octocatGithubApp : t.octocatOauth,
    extra: { target: 'octocat' },
  });
}

/** Operations a release serves, found by sending each a valid request. */
async function served(version: string): Promise<TokenOperation[]> {
  const out: TokenOperation[] = [];
  for (const op of TOKEN_OPERATIONS) {
    const res = await validCall(emulator(version), op);
    if (res.status !== 404) out.push(op);
  }
  return out;
}

const LEGACY: TokenOperation[] = ['legacy_check', 'legacy_reset', 'legacy_delete', 'legacy_grant'];
const BODY: TokenOperation[] = ['check', 'reset', 'delete', 'grant'];

describe('endpoints per release', () => {
  it('2.18 and 2.19 serve only the legacy path-style endpoints', async () => {
    expect(await served('2.18')).toEqual(LEGACY);
    expect(await served('2.19')).toEqual(LEGACY);
  });

  it('2.20 – 2.22 add the body-style endpoints, still without scoped', async () => {
    for (const v of ['2.20', '2.21', '2.22']) expect(await served(v)).toEqual([...BODY, ...LEGACY]);
  });

  it('3.0 – 3.3 add scoped', async () => {
    for (const v of ['3.0', '3.3']) expect(await served(v)).toEqual([...BODY, 'scoped', ...LEGACY]);
  });

  it('3.4 and later drop the legacy endpoints', async () => {
    for (const v of ['3.4', '3.22']) expect(await served(v)).toEqual([...BODY, 'scoped']);
  });

  it('a missing endpoint answers like any unknown route: 404 Not Found, not counted', async () => {
    const ghes = emulator('3.4');
    const res = await validCall(ghes, 'legacy_check');
    expect(res.status).toBe(404);
    expect(await jsonOf(res)).toEqual({
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/enterprise-server@3.4/rest',
    });
    expect(res.headers.get('x-github-enterprise-version')).toBe('3.4.0');
    expect(ghes.calls().legacy_check).toBe(0);
  });

  it('switching the version at run time switches the endpoints', async () => {
    const ghes = emulator('3.3');
    expect((await validCall(ghes, 'legacy_check')).status).toBe(200);
    ghes.configure({ version: '3.4' });
    expect((await validCall(ghes, 'legacy_check')).status).toBe(404);
    ghes.configure({ version: '2.19' });
    expect((await validCall(ghes, 'check')).status).toBe(404);
  });

  it('refuses versions it cannot emulate', () => {
    expect(() => createGhesEmulator({ version: '2.17' })).toThrow(/unsupported GHES version/);
    expect(() => createGhesEmulator({ version: 'latest' })).toThrow(/unsupported GHES version/);
    expect(() => emulator('3.22').configure({ version: '3' })).toThrow(/version/);
  });
});

describe('authorization shape per release', () => {
  async function checked(version: string): Promise<Record<string, unknown>> {
    const ghes = emulator(version);
    const op = version === '2.19' ? 'legacy_check' : 'check';
    return jsonOf(
      await call(ghes, op, 'demo-github-app', { token: ghes.seed?.tokens.octocatGithubApp ?? '' }),
    );
  }

  it('expires_at is absent before 2.22 and present from 2.22', async () => {
    expect(await checked('2.19')).not.toHaveProperty('expires_at');
    expect(await checked('2.21')).not.toHaveProperty('expires_at');
    expect((await checked('2.22'))['expires_at']).toBe('2026-01-15T20:00:00Z');
    expect((await checked('3.1'))['expires_at']).toBe('2026-01-15T20:00:00Z');
  });

  it('user_view_type appears from 3.12', async () => {
    expect((await checked('3.11'))['user']).not.toHaveProperty('user_view_type');
    expect((await checked('3.12'))['user']).toHaveProperty('user_view_type', 'public');
  });

  it('scoped permissions follow the release: content_references until 3.3, team_discussions until 3.16', async () => {
    async function scope(version: string, permission: string): Promise<number> {
      const ghes = emulator(version);
      ghes.installApp({
        app: 'demo-github-app',
        account: 'monalisa',
        permissions: { [permission]: 'read' },
      });
      const res = await call(ghes, 'scoped', 'demo-github-app', {
        token: ghes.seed?.tokens.monalisaGithubApp ?? '',
        extra: { target: 'monalisa', permissions: { [permission]: 'read' } },
      });
      return res.status;
    }
    expect(await scope('3.3', 'content_references')).toBe(200);
    expect(await scope('3.4', 'content_references')).toBe(422);
    expect(await scope('3.16', 'team_discussions')).toBe(200);
    expect(await scope('3.17', 'team_discussions')).toBe(422);
    expect(await scope('3.13', 'discussions')).toBe(422);
    expect(await scope('3.14', 'discussions')).toBe(200);
  });
});
