/**
 * `webhook_secret_binding` (src/config): a GitHub App's webhook secret, read once from the named
 * Worker secret; OAuth apps get no GHES webhooks, so the setting is refused for them. Errors name
 * the setting and the binding, never the value.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse';
import { FIXTURE_APPS, TEST_PUBLIC_EC_JWK } from './fixtures';

const WEBHOOK_SECRET = 'webhook-secret-7d1e0c9b8a6f5e4d3c2b';
const APPS: Array<Record<string, string>> = [
  { ...FIXTURE_APPS[0] },
  { ...FIXTURE_APPS[1], webhook_secret_binding: 'APP_WEBHOOK_SECRET' },
];

function env(apps: unknown[] = APPS, vars: Record<string, unknown> = {}) {
  return {
    GHES_BASE_URL: 'https://ghes.example.com/api/v3',
    APPS: JSON.stringify(apps),
    OAUTH_SECRET: 'oauth-client-secret-4f1c9e2b7a6d5c3e8f0a',
    APP_SECRET: 'github-app-client-secret-9b8a7c6d5e4f3a2b1c0d',
    APP_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CALLER_ISSUER: 'https://callers.example.com',
    CALLER_AUDIENCE: 'ghes-token-gateway',
    CALLER_JWKS: JSON.stringify({ keys: [{ ...TEST_PUBLIC_EC_JWK, alg: 'ES256', use: 'sig' }] }),
    CALLER_POLICY: JSON.stringify({ 'svc-demo': { apps: ['*'], operations: ['check'] } }),
    CACHE_PEPPER: 'cache-pepper-value-0123456789abcdef0123456789abcdef',
    PUBLIC_URL: 'https://gateway.example.com',
    ...vars,
  };
}

describe('webhook_secret_binding', () => {
  it('reads the GitHub App webhook secret from the named binding; other apps have none', () => {
    const parsed = parseConfig(env());
    if (!parsed.ok) throw new Error(parsed.error.join('; '));
    expect(parsed.value.apps.get('demo-github-app')?.webhookSecret).toBe(WEBHOOK_SECRET);
    expect(parsed.value.apps.get('demo-oauth')?.webhookSecret).toBeUndefined();
  });

  it('is optional: a GitHub App without it has no webhook secret', () => {
    const apps = APPS.map(({ webhook_secret_binding: _drop, ...a }) => a);
    const parsed = parseConfig(env(apps));
    if (!parsed.ok) throw new Error(parsed.error.join('; '));
    expect(parsed.value.apps.get('demo-github-app')?.webhookSecret).toBeUndefined();
  });

  it('is refused for an OAuth app (GHES sends OAuth apps no webhooks)', () => {
    const apps = APPS.map((a) =>
      a.kind === 'oauth_app' ? { ...a, webhook_secret_binding: 'APP_WEBHOOK_SECRET' } : a,
    );
    const parsed = parseConfig(env(apps));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toContain(
      'APPS.demo-oauth: webhook_secret_binding is for GitHub Apps only',
    );
  });

  it.each([
    ['unset', undefined],
    ['empty', ''],
    ['too short', 'short-secret'],
    ['not a string', 12345678901234567890],
  ])('refuses a webhook secret that is %s, naming the binding and not the value', (_, value) => {
    const parsed = parseConfig(env(APPS, { APP_WEBHOOK_SECRET: value }));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toContain(
      'APPS.demo-github-app: secret APP_WEBHOOK_SECRET must be set to at least 16 characters',
    );
    if (typeof value === 'string' && value !== '')
      expect(parsed.error.join('\n')).not.toContain(value);
  });

  it('refuses a binding name that is not a Worker secret name', () => {
    const apps = APPS.map((a) =>
      a.kind === 'github_app' ? { ...a, webhook_secret_binding: 'lower_case' } : a,
    );
    const parsed = parseConfig(env(apps));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.join('\n')).toMatch(/webhook_secret_binding: must name a Worker secret/);
  });
});
