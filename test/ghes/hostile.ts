/**
 * 2xx answers that are not GHES's answer, for the GHES call modules: every one must be refused
 * (upstream-error, or upstream-outcome-unknown where a token was minted), never returned. Each
 * row names the field path the refusal must name; bad values carry MARK, which no error or log
 * line may repeat.
 */
import { expect } from 'vitest';
import type { AppConfig } from '../../src/config/types';
import type { ErrorCode } from '../../src/lib/errors';
import {
  OAUTH_APP,
  TOKEN,
  authorization,
  errorText,
  expectGatewayError,
  harness,
  reply,
  type Harness,
} from './harness';

export const MARK = 'HOSTILE_MARK_7f3a';

export interface HostileAnswer {
  name: string;
  body: string;
  contentType?: string;
  /** What the operator-facing reason must contain: the failed field path, or why. */
  reason: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function withFields(app: AppConfig, fields: Record<string, unknown>, drop: string[] = []): string {
  const base: Record<string, unknown> = { ...authorization({}, app), ...fields };
  for (const key of drop) delete base[key];
  return JSON.stringify(base);
}

const installation = {
  permissions: { contents: 'read' },
  repository_selection: 'selected',
  single_file_name: null,
  repositories_url: 'https://ghes.example.test/api/v3/user/repos',
  account: { login: 'octo-org', id: 3 },
};

/** Hostile 2xx bodies for calls answered with an authorization (check, reset, scoped, legacy). */
export function hostileAuthorizations(app: AppConfig = OAUTH_APP): HostileAnswer[] {
  const good = authorization({}, app);
  const f = (name: string, fields: Record<string, unknown>, reason: string): HostileAnswer => ({
    name,
    body: withFields(app, fields),
    reason,
  });
  const without = (field: string, reason: string): HostileAnswer => ({
    name: `${field} missing`,
    body: withFields(app, {}, [field]),
    reason,
  });
  const raw = (name: string, body: string, reason: string, contentType?: string) => ({
    name,
    body,
    reason,
    ...(contentType !== undefined && { contentType }),
  });
  return [
    raw('null', 'null', '(root) (invalid_type)'),
    raw('an empty array', '[]', '(root) (invalid_type)'),
    raw('an empty object', '{}', 'id (invalid_type)'),
    raw('a string', `"${MARK}"`, '(root) (invalid_type)'),
    raw('a number', '42', '(root) (invalid_type)'),
    raw('a boolean', 'true', '(root) (invalid_type)'),
    raw('an empty body', '', '(root) (invalid_type)'),
    raw('{"app":{}}', '{"app":{}}', 'id (invalid_type)'),
    raw('nested garbage', `{"a":{"b":[[{"c":"${MARK}"}]]}}`, 'id (invalid_type)'),
    raw('arrays nested 5000 deep', '['.repeat(5000) + ']'.repeat(5000), '(root) (invalid_type)'),
    raw('truncated JSON', JSON.stringify(good).slice(0, -7), 'not JSON'),
    raw('JSON with trailing garbage', `${JSON.stringify(good)}${MARK}`, 'not JSON'),
    raw(
      'an HTML sign-in page',
      `<html><body>${MARK} Sign in</body></html>`,
      'not JSON',
      'text/html',
    ),
    f('scopes as a string', { scopes: `repo ${MARK}` }, 'scopes (invalid_type)'),
    f('a number among the scopes', { scopes: ['repo', 7] }, 'scopes[1] (invalid_type)'),
    f('a huge scope', { scopes: [MARK.repeat(100)] }, 'scopes[0] (too_big)'),
    without('scopes', 'scopes (invalid_type)'),
    f('id as a string', { id: '1001' }, 'id (invalid_type)'),
    f('a negative id', { id: -1 }, 'id (too_small)'),
    f('a fractional id', { id: 1.5 }, 'id ('),
    f('an id past 2^53', { id: 2 ** 60 }, 'id ('),
    without('id', 'id (invalid_type)'),
    f('app null', { app: null }, 'app (invalid_type)'),
    f('app as a string', { app: MARK }, 'app (invalid_type)'),
    f('app.client_id a number', { app: { ...good.app, client_id: 12 } }, 'app.client_id ('),
    f(
      "another app's client_id",
      { app: { ...good.app, client_id: `Iv1.${MARK}` } },
      'app.client_id (custom)',
    ),
    without('app', 'app (invalid_type)'),
    f('user as a string', { user: MARK }, 'user (invalid_type)'),
    f('user as an array', { user: [] }, 'user (invalid_type)'),
    f('user.id a string', { user: { login: 'octocat', id: '1' } }, 'user.id ('),
    f('user.id zero', { user: { login: 'octocat', id: 0 } }, 'user.id (too_small)'),
    f('user.login missing', { user: { id: 1 } }, 'user.login ('),
    f('user.login a number', { user: { login: 7, id: 1 } }, 'user.login ('),
    f(
      'user.login with CR/LF (header injection)',
      { user: { login: `octocat\r\nx-auth-user: ${MARK}`, id: 1 } },
      'user.login (invalid_format)',
    ),
    f('a huge user.login', { user: { login: 'a'.repeat(100_000), id: 1 } }, 'user.login (too_big)'),
    f(
      'user.site_admin a string',
      { user: { login: 'o', id: 1, site_admin: 'yes' } },
      'user.site_admin (',
    ),
    f('expires_at not a date', { expires_at: `tomorrow ${MARK}` }, 'expires_at ('),
    f('expires_at a number', { expires_at: 1_767_225_600 }, 'expires_at ('),
    f('expires_at out of range', { expires_at: '2026-13-45T99:99:99Z' }, 'expires_at ('),
    f('expires_at an object', { expires_at: {} }, 'expires_at ('),
    without('created_at', 'created_at ('),
    f('updated_at a number', { updated_at: 1_700_000_000 }, 'updated_at ('),
    f('installation as a string', { installation: 'all' }, 'installation ('),
    f(
      'installation.permissions an array',
      { installation: { ...installation, permissions: ['contents'] } },
      'installation.permissions (',
    ),
    f(
      'a permission level a number',
      { installation: { ...installation, permissions: { contents: 1 } } },
      'installation.permissions.contents (',
    ),
    f(
      'a permission name GHES made up',
      { installation: { ...installation, permissions: { [`${MARK} x`]: 'read' } } },
      'installation.permissions',
    ),
    f(
      'repository_selection unknown',
      { installation: { ...installation, repository_selection: 'some' } },
      'installation.repository_selection (invalid_value)',
    ),
    f(
      'installation.account missing',
      { installation: { ...installation, account: undefined } },
      'installation.account (',
    ),
    f('a huge note', { note: MARK.repeat(10_000) }, 'note (too_big)'),
    f('url as nested garbage', { url: { deep: [[{ deeper: MARK }]] } }, 'url ('),
    f('fingerprint a number', { fingerprint: 42 }, 'fingerprint ('),
    f('token_last_eight an array', { token_last_eight: [] }, 'token_last_eight ('),
  ];
}

/** Check answers must also be about the token asked (`TOKEN`). */
export function hostileCheckAnswers(app: AppConfig = OAUTH_APP): HostileAnswer[] {
  const other = `gho_${MARK}OTHERTOKEN1234`;
  return [
    ...hostileAuthorizations(app),
    {
      name: "another token's authorization",
      body: withFields(app, { token: other, token_last_eight: other.slice(-8) }),
      reason: 'token (custom)',
    },
    {
      name: "another token's last eight",
      body: withFields(app, {}, ['token']).replace(TOKEN.slice(-8), 'ZZZZ9999'),
      reason: 'token (custom)',
    },
    { name: 'token a number', body: withFields(app, { token: 42 }), reason: 'token (' },
  ];
}

/** Reset and scoped answers also carry the new token: it must be one. */
export function hostileMintedAuthorizations(app: AppConfig = OAUTH_APP): HostileAnswer[] {
  const f = (name: string, fields: Record<string, unknown>): HostileAnswer => ({
    name,
    body: withFields(app, fields),
    reason: 'token (',
  });
  return [
    ...hostileAuthorizations(app),
    { name: 'token missing', body: withFields(app, {}, ['token']), reason: 'token (' },
    f('token empty', { token: '' }),
    f('token a number', { token: 12345 }),
    f('token with a line break', { token: `gho_${MARK}\r\nx` }),
    f('token past 255 characters', { token: `gho_${'a'.repeat(300)}` }),
    f('token null', { token: null }),
  ];
}

/** Deletes answer 204 without a body; a 2xx with one is not GHES's answer. */
export function hostileNoContent(): HostileAnswer[] {
  return [
    { name: '{}', body: '{}', reason: '(root) (invalid_type)' },
    { name: 'null', body: 'null', reason: '(root) (invalid_type)' },
    { name: 'an authorization', body: JSON.stringify(authorization()), reason: '(root) (' },
    { name: 'a string', body: `"${MARK}"`, reason: '(root) (invalid_type)' },
    {
      name: 'an HTML sign-in page',
      body: `<html><body>${MARK} Sign in</body></html>`,
      contentType: 'text/html',
      reason: 'not JSON',
    },
    { name: 'truncated JSON', body: '{"message":"Del', reason: 'not JSON' },
  ];
}

export interface RefusalExpectation {
  code: ErrorCode;
  mayHaveApplied: boolean;
  /** Success status to answer with (default 200). */
  status?: number;
}

/**
 * Answers `row` to `run`, once, and expects it refused: the code, one fetch (never retried), a
 * reason naming `row.reason`, and MARK nowhere in the error or the log.
 */
export async function expectRefused(
  row: HostileAnswer,
  run: (h: Harness) => Promise<unknown>,
  expected: RefusalExpectation,
  app: AppConfig = OAUTH_APP,
): Promise<void> {
  const h = harness(
    [
      reply(expected.status ?? 200, row.body, {
        'content-type': row.contentType ?? JSON_TYPE,
      }),
    ],
    { app },
  );
  const err = await expectGatewayError(run(h), expected.code);
  expect(err.upstreamStatus).toBe(expected.status ?? 200);
  expect(err.mayHaveApplied).toBe(expected.mayHaveApplied);
  expect(err.reason).toContain(row.reason);
  expect(h.calls).toHaveLength(1);
  // Neither the answer's values nor the token (in the URL of legacy calls) are repeated.
  for (const secret of [MARK, TOKEN, app.clientSecret]) {
    expect(errorText(err)).not.toContain(secret);
    expect(JSON.stringify(h.logs)).not.toContain(secret);
  }
  // What the caller sees says GHES's answer was unusable, and repeats none of it.
  expect(err.detail).toMatch(/GHES answered/);
  expect(err.detail?.length ?? 0).toBeLessThan(200);
}
