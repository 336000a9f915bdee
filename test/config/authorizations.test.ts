/**
 * The Authorizations API settings (src/config): `authorizations_api` per app (OAuth apps only,
 * off by default), the callers' `authorization_scopes` ceiling, the user-login rate limit and the
 * new operations. Errors name the setting, never a value.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse';
import { FIXTURE_APPS, TEST_PUBLIC_EC_JWK } from './fixtures';

const SECRET = 'oauth-client-secret-4f1c9e2b7a6d5c3e8f0a';
const APPS = FIXTURE_APPS;

function env(
  overrides: { apps?: unknown[]; policy?: unknown; vars?: Record<string, unknown> } = {},
) {
  return {
    GHES_BASE_URL: 'https://ghes.example.com/api/v3',
    APPS: JSON.stringify(overrides.apps ?? APPS),
    OAUTH_SECRET: SECRET,
    APP_SECRET: 'github-app-client-secret-9b8a7c6d5e4f3a2b1c0d',
    CALLER_ISSUER: 'https://callers.example.com',
    CALLER_AUDIENCE: 'ghes-token-gateway',
    CALLER_JWKS: JSON.stringify({ keys: [{ ...TEST_PUBLIC_EC_JWK, alg: 'ES256', use: 'sig' }] }),
    CALLER_POLICY: JSON.stringify(
      overrides.policy ?? {
        'svc-demo': { apps: ['*'], operations: ['authorizations_read', 'authorizations_write'] },
      },
    ),
    CACHE_PEPPER: 'cache-pepper-value-0123456789abcdef0123456789abcdef',
    PUBLIC_URL: 'https://gateway.example.com',
    ...overrides.vars,
  };
}

const withApi = (kind: 'oauth_app' | 'github_app', value: unknown) =>
  APPS.map((a) => (a.kind === kind ? { ...a, authorizations_api: value } : a));

describe('authorizations_api', () => {
  it('is off unless set, and on for the app that sets it', () => {
    const off = parseConfig(env());
    if (!off.ok) throw new Error(off.error.join('; '));
    expect(off.value.apps.get('demo-oauth')?.authorizationsApi).toBeUndefined();
    const on = parseConfig(env({ apps: withApi('oauth_app', true) }));
    if (!on.ok) throw new Error(on.error.join('; '));
    expect(on.value.apps.get('demo-oauth')?.authorizationsApi).toBe(true);
    expect(on.value.apps.get('demo-github-app')?.authorizationsApi).toBeUndefined();
    const no = parseConfig(env({ apps: withApi('oauth_app', false) }));
    expect(no.ok && no.value.apps.get('demo-oauth')?.authorizationsApi).toBeUndefined();
  });

  it('is refused on a GitHub App', () => {
    const r = parseConfig(env({ apps: withApi('github_app', true) }));
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error.join('\n')).toMatch(/APPS\.1\.authorizations_api: is only for OAuth apps/);
  });

  it('must be a boolean', () => {
    const r = parseConfig(env({ apps: withApi('oauth_app', 'yes') }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.join('\n')).toMatch(/APPS\.0\.authorizations_api/);
  });
});

describe('authorization_scopes ceiling and operations', () => {
  it('accepts OAuth scope names and the new operations', () => {
    const r = parseConfig(
      env({
        policy: {
          'svc-demo': {
            apps: ['demo-oauth'],
            operations: ['authorizations_read'],
            authorization_scopes: ['repo', 'read:org'],
          },
        },
      }),
    );
    if (!r.ok) throw new Error(r.error.join('; '));
    expect(r.value.caller.policy['svc-demo']?.authorization_scopes).toEqual(['repo', 'read:org']);
  });

  it.each([[[]], [['Repo']], [['repo scope']], [['a'.repeat(70)]]])('refuses %j', (scopes) => {
    const r = parseConfig(
      env({
        policy: {
          'svc-demo': { apps: ['*'], operations: ['check'], authorization_scopes: scopes },
        },
      }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.join('\n')).toMatch(/CALLER_POLICY\.svc-demo\.authorization_scopes/);
  });

  it('refuses an unknown operation', () => {
    const r = parseConfig(
      env({ policy: { 'svc-demo': { apps: ['*'], operations: ['authorizations'] } } }),
    );
    expect(r.ok).toBe(false);
  });
});

describe('USER_LOGIN_RATE_LIMIT_PERIOD_S', () => {
  it('defaults to 60 s on USER_LOGIN_RATE_LIMITER, accepts 10, refuses 30', () => {
    const r = parseConfig(env());
    if (!r.ok) throw new Error(r.error.join('; '));
    expect(r.value.rateLimits.userLogin).toEqual({
      binding: 'USER_LOGIN_RATE_LIMITER',
      periodS: 60,
    });
    const ten = parseConfig(env({ vars: { USER_LOGIN_RATE_LIMIT_PERIOD_S: '10' } }));
    expect(ten.ok && ten.value.rateLimits.userLogin.periodS).toBe(10);
    const bad = parseConfig(env({ vars: { USER_LOGIN_RATE_LIMIT_PERIOD_S: '30' } }));
    expect(bad.ok).toBe(false);
  });
});
