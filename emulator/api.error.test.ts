import { beforeEach, describe, expect, it } from 'vitest';
import { createGhesEmulator, type GhesEmulator, type TokenOperation } from './index';
import { call, FIXED_NOW, jsonOf } from './test-client';

let clock = FIXED_NOW;
let ghes: GhesEmulator;
let tokens: NonNullable<GhesEmulator['seed']>['tokens'];

beforeEach(() => {
  clock = FIXED_NOW;
  ghes = createGhesEmulator({ now: () => clock });
  if (!ghes.seed) throw new Error('demo seed missing');
  tokens = ghes.seed.tokens;
});

const BODY_OPS: TokenOperation[] = ['check', 'reset', 'delete', 'grant'];
const CHECK_DOCS =
  'https://docs.github.com/enterprise-server@3.22/rest/apps/oauth-applications#check-a-token';

async function expectNotFound(res: Response): Promise<void> {
  expect(res.status).toBe(404);
  const body = await jsonOf(res);
  expect(body['message']).toBe('Not Found');
  expect(body['documentation_url']).toMatch(
    /^https:\/\/docs\.github\.com\/enterprise-server@3\.22\/rest/,
  );
}

describe('unknown, revoked, expired and foreign tokens answer 404 on every operation', () => {
  for (const op of BODY_OPS) {
    it(`${op}: unknown token`, async () => {
      await expectNotFound(
        await call(ghes, op, 'demo-oauth', { token: 'gho_unknownunknownunknownunknownunknown' }),
      );
    });

    it(`${op}: revoked token`, async () => {
      ghes.revokeToken(tokens.octocatOauth);
      await expectNotFound(await call(ghes, op, 'demo-oauth', { token: tokens.octocatOauth }));
    });

    it(`${op}: expired token (one second past expires_at)`, async () => {
      clock += 8 * 3_600_000;
      await expectNotFound(
        await call(ghes, op, 'demo-github-app', { token: tokens.octocatGithubApp }),
      );
      clock -= 1000;
      expect(
        (await call(ghes, 'check', 'demo-github-app', { token: tokens.octocatGithubApp })).status,
      ).toBe(200);
    });

    it(`${op}: another app's token`, async () => {
      await expectNotFound(await call(ghes, op, 'demo-github-app', { token: tokens.octocatOauth }));
      expect((await call(ghes, 'check', 'demo-oauth', { token: tokens.octocatOauth })).status).toBe(
        200,
      );
    });
  }

  it('scoped: unknown and expired parent tokens', async () => {
    await expectNotFound(
      await call(ghes, 'scoped', 'demo-github-app', {
        token: 'ghu_nopenopenopenopenopenopenopenopenope',
        extra: { target: 'octocat' },
      }),
    );
    clock += 8 * 3_600_000;
    await expectNotFound(
      await call(ghes, 'scoped', 'demo-github-app', {
        token: tokens.octocatGithubApp,
        extra: { target: 'octocat' },
      }),
    );
  });

  it('a scoped token dies with its expiry inherited from the parent', async () => {
    const scoped = await jsonOf(
      await call(ghes, 'scoped', 'demo-github-app', {
        token: tokens.octocatGithubApp,
        extra: { target: 'octocat' },
      }),
    );
    clock += 8 * 3_600_000;
    await expectNotFound(
      await call(ghes, 'check', 'demo-github-app', { token: scoped['token'] as string }),
    );
  });
});

describe('bad bodies', () => {
  for (const op of [...BODY_OPS, 'scoped'] as const) {
    it(`${op}: missing access_token → 422 "Invalid request."`, async () => {
      const res = await call(ghes, op, op === 'scoped' ? 'demo-github-app' : 'demo-oauth', {
        body: { target: 'octocat' },
      });
      expect(res.status).toBe(422);
      const body = await jsonOf(res);
      expect(body['message']).toBe('Invalid request.\n\n"access_token" wasn\'t supplied.');
      expect(typeof body['documentation_url']).toBe('string');
    });

    it(`${op}: access_token of the wrong type → 422`, async () => {
      const res = await call(ghes, op, op === 'scoped' ? 'demo-github-app' : 'demo-oauth', {
        body: { access_token: 42 },
      });
      expect(res.status).toBe(422);
      expect((await jsonOf(res))['message']).toBe(
        "Invalid request.\n\nFor 'properties/access_token', 42 is not a string.",
      );
    });

    it(`${op}: not JSON → 400 "Problems parsing JSON", nothing changes`, async () => {
      const res = await call(ghes, op, op === 'scoped' ? 'demo-github-app' : 'demo-oauth', {
        body: '{"access_token":',
      });
      expect(res.status).toBe(400);
      expect((await jsonOf(res))['message']).toBe('Problems parsing JSON');
    });
  }

  it('an empty body counts as {} and a non-object body is rejected', async () => {
    const empty = await call(ghes, 'check', 'demo-oauth', { body: '' });
    expect(empty.status).toBe(422);
    const array = await call(ghes, 'check', 'demo-oauth', { body: '["x"]' });
    expect(array.status).toBe(422);
    expect((await jsonOf(array))['message']).toBe('Invalid request.\n\n["x"] is not an object.');
  });

  it('check answers 422 with the operation documentation_url', async () => {
    const body = await jsonOf(await call(ghes, 'check', 'demo-oauth', { body: {} }));
    expect(body['documentation_url']).toBe(CHECK_DOCS);
  });
});

describe('scoped token validation', () => {
  async function scoped(
    extra: Record<string, unknown>,
    token = tokens.octocatGithubApp,
  ): Promise<Response> {
    return call(ghes, 'scoped', 'demo-github-app', { token, extra });
  }

  async function expectValidationFailed(res: Response, field: string, code: string): Promise<void> {
    expect(res.status).toBe(422);
    const body = await jsonOf(res);
    expect(body['message']).toBe('Validation Failed');
    expect(body['errors']).toEqual([expect.objectContaining({ field, code })]);
  }

  it('needs target or target_id', async () => {
    await expectValidationFailed(await scoped({}), 'target', 'missing_field');
  });

  it('refuses repositories together with repository_ids', async () => {
    await expectValidationFailed(
      await scoped({ target: 'octocat', repositories: ['hello-world'], repository_ids: [1296269] }),
      'repository_ids',
      'invalid',
    );
  });

  it('refuses a permission name the release does not know', async () => {
    await expectValidationFailed(
      await scoped({ target: 'octocat', permissions: { teleport: 'read' } }),
      'permissions',
      'invalid',
    );
  });

  it('refuses a level the permission does not have', async () => {
    const res = await scoped({ target: 'octocat', permissions: { issues: 'admin' } });
    expect(res.status).toBe(422);
    expect((await jsonOf(res))['message']).toBe(
      'Invalid request.\n\nFor \'properties/issues\', "admin" is not one of ["read","write"].',
    );
  });

  it('refuses wrongly typed members', async () => {
    for (const [extra, detail] of [
      [{ target: 1 }, "For 'properties/target', 1 is not a string."],
      [{ target_id: '1' }, 'For \'properties/target_id\', "1" is not an integer.'],
      [
        { target: 'octocat', repositories: 'hello-world' },
        'For \'properties/repositories\', "hello-world" is not an array.',
      ],
      [{ target: 'octocat', repository_ids: [1.5] }, "For 'items', 1.5 is not an integer."],
      [
        { target: 'octocat', permissions: ['contents'] },
        'For \'properties/permissions\', ["contents"] is not an object.',
      ],
    ] as const) {
      const res = await scoped(extra);
      expect(res.status).toBe(422);
      expect((await jsonOf(res))['message']).toBe(`Invalid request.\n\n${detail}`);
    }
  });

  it('refuses permissions beyond the installation', async () => {
    await expectValidationFailed(
      await scoped({ target: 'octocat', permissions: { administration: 'read' } }),
      'permissions',
      'invalid',
    );
    await expectValidationFailed(
      await scoped({ target: 'octo-org', permissions: { contents: 'write' } }),
      'permissions',
      'invalid',
    );
  });

  it('refuses repositories the installation cannot reach', async () => {
    await expectValidationFailed(
      await scoped({ target: 'octo-org', repositories: ['gadgets'] }),
      'repositories',
      'invalid',
    );
    await expectValidationFailed(
      await scoped({ target: 'octocat', repositories: ['no-such-repo'] }),
      'repositories',
      'invalid',
    );
    await expectValidationFailed(
      await scoped({ target: 'octocat', repository_ids: [4200001] }),
      'repository_ids',
      'invalid',
    );
  });

  it('refuses unknown targets, disagreeing target/target_id and accounts without access', async () => {
    await expectValidationFailed(await scoped({ target: 'nobody' }), 'target', 'invalid');
    await expectValidationFailed(await scoped({ target_id: 999 }), 'target_id', 'invalid');
    await expectValidationFailed(
      await scoped({ target: 'octocat', target_id: 3 }),
      'target_id',
      'invalid',
    );
    // monalisa has no installation of the app and is not in octo-org.
    await expectValidationFailed(
      await scoped({ target: 'monalisa' }, tokens.monalisaGithubApp),
      'target',
      'invalid',
    );
    await expectValidationFailed(
      await scoped({ target: 'octo-org' }, tokens.monalisaGithubApp),
      'target',
      'invalid',
    );
  });

  it('refuses to scope an already scoped token', async () => {
    const first = await jsonOf(await scoped({ target: 'octocat' }));
    await expectValidationFailed(
      await scoped({ target: 'octocat' }, first['token'] as string),
      'access_token',
      'invalid',
    );
  });

  it('answers 404 to an OAuth app (scoping is a GitHub App feature) before looking at the body', async () => {
    const res = await call(ghes, 'scoped', 'demo-oauth', {
      token: tokens.octocatOauth,
      extra: { target: 'octocat' },
    });
    await expectNotFound(res);
    await expectNotFound(await call(ghes, 'scoped', 'demo-oauth', { body: {} }));
  });

  it('creates nothing when refused', async () => {
    const before = ghes.state.tokens.size;
    await scoped({ target: 'octocat', permissions: { administration: 'write' } });
    expect(ghes.state.tokens.size).toBe(before);
  });
});

describe('REST API version header', () => {
  it('3.22 rejects an unsupported X-GitHub-Api-Version with 400 and accepts 2022-11-28', async () => {
    const bad = await call(ghes, 'check', 'demo-oauth', {
      token: tokens.octocatOauth,
      headers: { 'x-github-api-version': '2099-01-01' },
    });
    expect(bad.status).toBe(400);
    expect((await jsonOf(bad))['message']).toBe('API version 2099-01-01 is not supported.');
    const good = await call(ghes, 'check', 'demo-oauth', {
      token: tokens.octocatOauth,
      headers: { 'x-github-api-version': '2022-11-28' },
    });
    expect(good.status).toBe(200);
    expect(good.headers.get('x-github-api-version-selected')).toBe('2022-11-28');
  });

  it('3.8 predates API versions and ignores the header', async () => {
    ghes = createGhesEmulator({ version: '3.8', now: () => clock });
    const res = await call(ghes, 'check', 'demo-oauth', {
      token: ghes.seed?.tokens.octocatOauth ?? '',
      headers: { 'x-github-api-version': '2099-01-01' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.has('x-github-api-version-selected')).toBe(false);
  });
});

describe('unknown routes', () => {
  it('answer GHES-style 404 JSON and are not counted', async () => {
    const res = await ghes.fetch('https://ghes.example.test/api/v3/applications/x/tokenz', {
      method: 'POST',
    });
    expect(res.status).toBe(404);
    expect(await jsonOf(res)).toEqual({
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/enterprise-server@3.22/rest',
    });
    expect(res.headers.get('x-github-enterprise-version')).toBe('3.22.0');
    expect(Object.values(ghes.calls()).every((n) => n === 0)).toBe(true);
  });

  it('a method GHES does not route (GET on the body-style path) is 404', async () => {
    const res = await ghes.fetch(
      'https://ghes.example.test/api/v3/applications/5f2d4b8a9c1e3f607a8b/token',
    );
    expect(res.status).toBe(404);
  });
});
