import { describe, expect, it } from 'vitest';
import type { PublicAuthorization } from '../../src/ghes/types';
import {
  endUserChallenge,
  forwardDecision,
  insufficientScopeChallenge,
  parseEndUserCredentials,
  parseRequiredScopes,
} from '../../src/introspection/forward-auth';
import { effectiveScopes, missingScopes } from '../../src/introspection/github-scopes';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const TOKEN = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';

function authorization(overrides: Partial<PublicAuthorization> = {}): PublicAuthorization {
  return {
    id: 1,
    url: 'u',
    scopes: ['repo'],
    token_last_eight: 'Ae178B4a',
    app: { client_id: 'c', name: 'n', url: 'u' },
    note: null,
    note_url: null,
    updated_at: '2026-11-21T10:00:00Z',
    created_at: '2026-11-21T10:00:00Z',
    fingerprint: null,
    user: { login: 'octocat', id: 1 },
    expires_at: null,
    ...overrides,
  };
}

describe('parseEndUserCredentials', () => {
  it('reads Bearer and token schemes in any case', () => {
    for (const h of [
      `Bearer ${TOKEN}`,
      `bearer ${TOKEN}`,
      `token ${TOKEN}`,
      `TOKEN   ${TOKEN}  `,
    ]) {
      expect(parseEndUserCredentials(h)).toStrictEqual({ ok: true, value: TOKEN });
    }
  });

  it('tells missing from malformed credentials', () => {
    expect(parseEndUserCredentials(undefined)).toStrictEqual({ ok: false, error: 'missing' });
    expect(parseEndUserCredentials('  ')).toStrictEqual({ ok: false, error: 'missing' });
    for (const h of [
      'Bearer',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN} x`,
      `Bearer ${'a'.repeat(256)}`,
      `Bearer\t${TOKEN}`,
      `Bearer tok\u00e9n`,
    ]) {
      expect(parseEndUserCredentials(h), h.slice(0, 10)).toStrictEqual({
        ok: false,
        error: 'malformed',
      });
    }
  });
});

describe('parseRequiredScopes', () => {
  it('collects repeated and space-separated scopes without duplicates', () => {
    expect(parseRequiredScopes(['repo', 'read:org gist', 'repo', ''])).toStrictEqual({
      ok: true,
      value: ['repo', 'read:org', 'gist'],
    });
    expect(parseRequiredScopes([])).toStrictEqual({ ok: true, value: [] });
  });

  it('refuses characters outside RFC 6749 scope tokens and too many scopes', () => {
    expect(parseRequiredScopes(['a"b']).ok).toBe(false);
    expect(parseRequiredScopes(['a\\b']).ok).toBe(false);
    expect(parseRequiredScopes(['x'.repeat(101)]).ok).toBe(false);
    expect(parseRequiredScopes(Array.from({ length: 21 }, (_, i) => `s${i}`)).ok).toBe(false);
  });
});

describe('GitHub scope hierarchy', () => {
  it('expands parent scopes transitively', () => {
    expect(effectiveScopes(['admin:org'])).toStrictEqual(
      new Set(['admin:org', 'write:org', 'read:org']),
    );
    expect(
      missingScopes(['repo'], ['public_repo', 'repo:status', 'security_events']),
    ).toStrictEqual([]);
    expect(missingScopes(['user'], ['read:user', 'user:email'])).toStrictEqual([]);
  });

  it('never lets a child satisfy a parent, and ignores inherited object keys', () => {
    expect(missingScopes(['public_repo'], ['repo'])).toStrictEqual(['repo']);
    expect(missingScopes(['read:org'], ['admin:org', 'read:org'])).toStrictEqual(['admin:org']);
    expect(missingScopes(['constructor', '__proto__'], ['toString'])).toStrictEqual(['toString']);
  });
});

describe('forwardDecision', () => {
  it('allows with user headers and max-age equal to the remaining freshness', () => {
    expect(
      forwardDecision(authorization({ scopes: ['repo', 'gist'] }), ['repo'], 42, NOW),
    ).toStrictEqual({
      allow: true,
      headers: {
        'x-auth-scopes': 'repo, gist',
        'cache-control': 'private, max-age=42',
        'x-accel-expires': '42',
        vary: 'Authorization, X-Gateway-Authorization',
        'x-auth-user': 'octocat',
        'x-auth-user-id': '1',
      },
    });
  });

  it('caps max-age at the token expiry and passes expires_at on', () => {
    const decision = forwardDecision(
      authorization({ expires_at: '2026-11-21T12:00:10Z' }),
      [],
      60,
      NOW,
    );
    expect(decision).toMatchObject({
      allow: true,
      headers: {
        'cache-control': 'private, max-age=10',
        'x-auth-token-expires': '2026-11-21T12:00:10Z',
      },
    });
  });

  it('denies an inactive, expired or missing authorization', () => {
    expect(forwardDecision(undefined, [], 60, NOW)).toStrictEqual({
      allow: false,
      reason: 'inactive',
    });
    expect(
      forwardDecision(authorization({ expires_at: '2026-11-21T12:00:00Z' }), [], 60, NOW),
    ).toStrictEqual({
      allow: false,
      reason: 'inactive',
    });
  });

  it('denies a missing scope and lists what is missing', () => {
    expect(forwardDecision(authorization(), ['repo', 'admin:org', 'gist'], 60, NOW)).toStrictEqual({
      allow: false,
      reason: 'insufficient_scope',
      missing: ['admin:org', 'gist'],
    });
  });

  it('never writes control characters into a header', () => {
    const decision = forwardDecision(
      authorization({ user: { login: 'evil\r\nX-Injected: 1', id: 7 } }),
      [],
      1,
      NOW,
    );
    expect(decision).toMatchObject({
      allow: true,
      headers: { 'x-auth-user': 'evilX-Injected: 1' },
    });
  });
});

describe('challenges', () => {
  it('follow RFC 6750 §3', () => {
    expect(endUserChallenge('missing')).toBe('Bearer realm="GitHub"');
    expect(endUserChallenge('inactive')).toBe('Bearer realm="GitHub", error="invalid_token"');
    expect(insufficientScopeChallenge(['repo', 'read:org'])).toBe(
      'Bearer realm="GitHub", error="insufficient_scope", scope="repo read:org"',
    );
  });
});
