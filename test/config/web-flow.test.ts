/**
 * Config for the OAuth web flow: the GHES web host (GHES_WEB_URL, else GHES_BASE_URL without
 * /api/v3) and the per-caller `redirect_uris` a `code_exchange` caller must have.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse';
import { TEST_PUBLIC_EC_JWK } from './fixtures';

const APPS = [
  {
    name: 'web',
    client_id: 'Iv1.9d2c5e8f1a3b4c6d',
    kind: 'github_app',
    client_secret_binding: 'WEB_SECRET',
  },
];

function env(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    GHES_BASE_URL: 'https://ghes.example.com/api/v3',
    APPS: JSON.stringify(APPS),
    WEB_SECRET: 'web-client-secret-0123456789abcdef',
    CALLER_ISSUER: 'https://callers.example.com',
    CALLER_AUDIENCE: 'ghes-token-gateway',
    CALLER_JWKS: JSON.stringify({ keys: [{ ...TEST_PUBLIC_EC_JWK, alg: 'ES256' }] }),
    CALLER_POLICY: JSON.stringify({
      'svc-login': {
        apps: ['web'],
        operations: ['code_exchange', 'refresh'],
        redirect_uris: ['https://login.example.com/callback'],
      },
    }),
    CACHE_PEPPER: 'cache-pepper-value-0123456789abcdef0123456789abcdef',
    PUBLIC_URL: 'https://gateway.example.com',
    ...overrides,
  };
}

function policy(entry: Record<string, unknown>) {
  return { CALLER_POLICY: JSON.stringify({ 'svc-login': { apps: ['web'], ...entry } }) };
}

function errorsOf(e: Record<string, unknown>): string[] {
  const result = parseConfig(e);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.error;
}

function parsed(e: Record<string, unknown>) {
  const result = parseConfig(e);
  if (!result.ok) throw new Error(`expected a valid config: ${result.error.join('; ')}`);
  return result.value;
}

describe('the GHES web host', () => {
  it('defaults to GHES_BASE_URL without /api/v3', () => {
    expect(parsed(env()).ghes.webUrl).toBe('https://ghes.example.com');
    expect(
      parsed(env({ GHES_BASE_URL: 'https://ghes.example.com/ghes/api/v3/' })).ghes.webUrl,
    ).toBe('https://ghes.example.com/ghes');
  });

  it('GHES_WEB_URL overrides it (trailing slash dropped); empty means unset', () => {
    expect(parsed(env({ GHES_WEB_URL: 'https://login.ghes.example.com/' })).ghes.webUrl).toBe(
      'https://login.ghes.example.com',
    );
    expect(parsed(env({ GHES_WEB_URL: '' })).ghes.webUrl).toBe('https://ghes.example.com');
  });

  it.each([
    ['http://ghes.example.com', 'https://'],
    ['https://user:pw@ghes.example.com', 'user name or password'],
    ['https://ghes.example.com/api/v3', 'not the API URL'],
    ['https://ghes.example.com/?x=1', 'no query or fragment'],
    ['not a url', 'not a valid URL'],
  ])('GHES_WEB_URL %s is refused (%s), naming the var, never the value', (value, why) => {
    const errors = errorsOf(env({ GHES_WEB_URL: value }));
    expect(errors.join('\n')).toContain('GHES_WEB_URL');
    expect(errors.join('\n')).toContain(why);
    expect(errors.join('\n')).not.toContain('pw@');
  });

  it('http:// on loopback is allowed (local development)', () => {
    expect(parsed(env({ GHES_WEB_URL: 'http://127.0.0.1:8788' })).ghes.webUrl).toBe(
      'http://127.0.0.1:8788',
    );
  });
});

describe('redirect_uris', () => {
  it('are kept as written for the caller', () => {
    const config = parsed(env());
    expect(config.caller.policy['svc-login']?.redirect_uris).toEqual([
      'https://login.example.com/callback',
    ]);
    expect(config.caller.policy['svc-login']?.operations).toEqual(['code_exchange', 'refresh']);
  });

  it('a caller with code_exchange must have them', () => {
    const errors = errorsOf(env(policy({ operations: ['code_exchange'] })));
    expect(errors).toEqual([expect.stringContaining('CALLER_POLICY.svc-login.redirect_uris')]);
  });

  it('refresh alone needs none (a refresh token is bound to the app, not a redirect URI)', () => {
    expect(
      parsed(env(policy({ operations: ['refresh'] }))).caller.policy['svc-login']?.redirect_uris,
    ).toBeUndefined();
  });

  it.each([
    ['relative', '/callback'],
    ['with a fragment', 'https://login.example.com/cb#x'],
    ['with a user name', 'https://u@login.example.com/cb'],
    ['not canonical (no path)', 'https://login.example.com'],
    ['not canonical (upper-case host)', 'https://Login.example.com/cb'],
    ['too long', `https://login.example.com/${'a'.repeat(2100)}`],
  ])('a redirect URI %s is refused', (_what, uri) => {
    const errors = errorsOf(env(policy({ operations: ['code_exchange'], redirect_uris: [uri] })));
    expect(errors.join('\n')).toContain('CALLER_POLICY.svc-login.redirect_uris.0');
  });

  it('an empty list is refused (remove the operation instead)', () => {
    const errors = errorsOf(env(policy({ operations: ['code_exchange'], redirect_uris: [] })));
    expect(errors.join('\n')).toContain('redirect_uris');
  });
});
