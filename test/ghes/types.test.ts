/**
 * The authorization schema (src/ghes/types.ts): strict about what the gateway relies on, tolerant
 * of what GitHub documents as nullable or absent in older releases, and dropping every field it
 * does not know, so nothing GHES adds reaches a caller or the cache.
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/types';
import { checkToken } from '../../src/ghes/check-token';
import type { GhesContext } from '../../src/ghes/request';
import { resetToken } from '../../src/ghes/reset-token';
import { scopeToken } from '../../src/ghes/scope-token';
import {
  AuthorizationSchema,
  MintedAuthorizationSchema,
  authorizationOf,
  toPublicAuthorization,
} from '../../src/ghes/types';
import { createGhesEmulator, KNOWN_VERSIONS } from '../../emulator/index';
import { TestClock } from '../helpers/clock';
import { CLIENT_ID, authorization, publicAuthorization } from './harness';

const accepts = (value: unknown) => v.safeParse(authorizationOf(CLIENT_ID), value);

describe('what GitHub documents is accepted', () => {
  it('a full answer, without token and hashed_token', () => {
    const parsed = accepts(authorization());
    expect(parsed.success && parsed.output).toEqual(publicAuthorization());
  });

  it('null where GitHub allows null: scopes, user, installation, expires_at, note, fingerprint', () => {
    const parsed = accepts(
      authorization({
        scopes: null,
        user: null,
        installation: null,
        expires_at: null,
        note: null,
        note_url: null,
        fingerprint: null,
        token_last_eight: null,
      }),
    );
    expect(parsed.success).toBe(true);
  });

  it('before 2.20 null note/note_url/fingerprint are left out: read as null', () => {
    const { note: _n, note_url: _u, fingerprint: _f, ...old } = authorization();
    const parsed = accepts(old);
    expect(
      parsed.success && [parsed.output.note, parsed.output.note_url, parsed.output.fingerprint],
    ).toEqual([null, null, null]);
  });

  it('before 2.22 there is no expires_at, and none is made up', () => {
    const { expires_at: _e, ...old } = authorization();
    const parsed = accepts(old);
    expect(parsed.success && 'expires_at' in parsed.output).toBe(false);
  });

  it('date-times with an offset or fractional seconds', () => {
    for (const at of ['2026-01-01T00:00:00+02:00', '2026-01-01T00:00:00.123Z']) {
      expect(accepts(authorization({ expires_at: at, created_at: at })).success).toBe(true);
    }
  });
});

describe('fields nobody decided to pass on are dropped', () => {
  it('at the top, in user, in installation and its account', () => {
    const answer = {
      ...authorization({
        user: { login: 'octocat', id: 1, email: 'octo@example.test' } as never,
        installation: {
          permissions: { contents: 'read' },
          repository_selection: 'all',
          single_file_name: null,
          repositories_url: 'https://ghes.example.test/api/v3/user/repos',
          account: { login: 'octo-org', id: 3, email: 'org@example.test' } as never,
          surprise: 'x',
        } as never,
      }),
      hashed_token: 'deadbeef',
      new_in_3_99: { secret: 'x' },
    };
    const parsed = accepts(answer);
    expect(parsed.success).toBe(true);
    const text = JSON.stringify(parsed.success && parsed.output);
    for (const dropped of ['email', 'surprise', 'new_in_3_99', 'hashed_token', '"token"']) {
      expect(text).not.toContain(dropped);
    }
  });

  it('toPublicAuthorization copies installation and its account by allow-list too', () => {
    const a = {
      ...publicAuthorization(),
      installation: {
        permissions: { contents: 'read' },
        repository_selection: 'all' as const,
        single_file_name: null,
        repositories_url: 'u',
        account: { login: 'octo-org', id: 3, email: 'org@example.test' },
        surprise: 1,
      },
    };
    const text = JSON.stringify(toPublicAuthorization(a));
    expect(text).not.toContain('email');
    expect(text).not.toContain('surprise');
    expect(text).toContain('"account":{"login":"octo-org","id":3}');
  });

  it('the minted schema keeps the new token, never hashed_token', () => {
    const parsed = v.safeParse(MintedAuthorizationSchema, authorization());
    expect(parsed.success && parsed.output.token).toBe(authorization().token);
    expect(parsed.success && 'hashed_token' in parsed.output).toBe(false);
    expect(v.safeParse(AuthorizationSchema, authorization()).success).toBe(true);
  });
});

describe('exactly what the zod schema accepted (valibot since issue 14)', () => {
  const installation = {
    permissions: { contents: 'read' },
    repository_selection: 'all' as const,
    single_file_name: null,
    repositories_url: 'u',
    account: { login: 'octo-org', id: 3 },
  };

  it.each([
    ['a leap day', '2024-02-29T00:00:00Z'],
    ['an offset with minutes', '2026-01-01T00:00:00-05:30'],
  ])('date-time: %s is accepted', (_what, at) => {
    expect(accepts(authorization({ expires_at: at })).success).toBe(true);
  });

  it.each([
    ['29 February of a common year', '2025-02-29T00:00:00Z'],
    ['no seconds', '2026-01-01T00:00Z'],
    ['no offset', '2026-01-01T00:00:00'],
    ['a space for T', '2026-01-01 00:00:00Z'],
    ['a lower-case t and z', '2026-01-01t00:00:00z'],
    ['hour 24', '2026-01-01T24:00:00Z'],
    ['a date only', '2026-01-01'],
  ])('date-time: %s is refused', (_what, at) => {
    expect(accepts(authorization({ expires_at: at })).success).toBe(false);
  });

  it('user and installation: missing stays missing, null stays null', () => {
    const { user: _u, installation: _i, ...bare } = authorization();
    const missing = accepts(bare);
    expect(missing.success && ['user' in missing.output, 'installation' in missing.output]).toEqual(
      [false, false],
    );
    const nulls = accepts(authorization({ user: null, installation: null }));
    expect(nulls.success && [nulls.output.user, nulls.output.installation]).toEqual([null, null]);
  });

  it('scopes may be null but not missing', () => {
    const { scopes: _s, ...bare } = authorization();
    expect(accepts(bare).success).toBe(false);
    const nulled = accepts(authorization({ scopes: null }));
    expect(nulled.success && nulled.output.scopes).toBeNull();
  });

  it.each([
    ['the largest safe integer', 2 ** 53 - 1, true],
    ['past 2^53', 2 ** 53, false],
    ['a fraction', 1001.5, false],
    ['zero', 0, false],
    ['a numeric string', '1001', false],
  ])('id: %s', (_what, id, ok) => {
    expect(accepts(authorization({ id: id as number })).success).toBe(ok);
  });

  it.each([
    ['an array for installation', []],
    ['an array for the account', { ...installation, account: [] }],
    ['an array of permissions', { ...installation, permissions: ['contents'] }],
  ])('%s is refused, not read as an object', (_what, value) => {
    expect(accepts(authorization({ installation: value as never })).success).toBe(false);
  });

  it('a permission named after an Object.prototype member is dropped, the others kept', () => {
    const permissions = JSON.parse('{"contents":"read","constructor":"write","__proto__":"admin"}');
    const parsed = accepts(authorization({ installation: { ...installation, permissions } }));
    expect(parsed.success && parsed.output.installation?.permissions).toStrictEqual({
      contents: 'read',
    });
  });
});

describe("every release's answers, as the emulator renders them from GitHub's schema, are accepted", () => {
  it.each(KNOWN_VERSIONS.map((v) => [v]))('GHES %s', async (version) => {
    const now = Date.UTC(2026, 0, 15, 12, 0, 0);
    const ghes = createGhesEmulator({ version, now: () => now });
    const seed = ghes.seed;
    if (seed === null) throw new Error('demo seed missing');
    const [major, minor] = version.split('.').map(Number) as [number, number];
    const style = major * 100 + minor < 220 ? 'legacy' : 'body';
    const ctx = (name: string): GhesContext => {
      const app = ghes.apps().find((a) => a.name === name);
      if (app === undefined) throw new Error(`no app ${name}`);
      const config: AppConfig = {
        name,
        clientId: app.client_id,
        clientSecret: app.client_secret,
        kind: app.kind,
      };
      return {
        baseUrl: 'https://ghes.example.test/api/v3',
        app: config,
        fetch: ghes.fetch,
        timeoutMs: 60_000,
        deadlineMs: 60_000,
        log: () => undefined,
        clock: new TestClock(now),
      };
    };
    const oauth = ctx(seed.apps.oauth);
    const checked = await checkToken(oauth, seed.tokens.octocatOauth, style);
    expect(checked.user?.login).toBe('octocat');
    const reset = await resetToken(oauth, seed.tokens.octocatOauth, style);
    expect(reset.token).not.toBe(seed.tokens.octocatOauth);
    if (major >= 3) {
      const scoped = await scopeToken(ctx(seed.apps.githubApp), {
        access_token: seed.tokens.octocatGithubApp,
        target: 'octocat',
        permissions: { contents: 'read' },
      });
      expect(scoped.installation?.account.login).toBe('octocat');
    }
  });
});
