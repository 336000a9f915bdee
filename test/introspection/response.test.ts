import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/cache/entry';
import type { PublicAuthorization } from '../../src/ghes/types';
import {
  INACTIVE,
  introspectionAnswer,
  isLive,
  toIntrospectionResponse,
} from '../../src/introspection/response';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function authorization(overrides: Partial<PublicAuthorization> = {}): PublicAuthorization {
  return {
    id: 42,
    url: 'https://ghes.test/api/v3/authorizations/42',
    scopes: ['repo', 'read:org'],
    token_last_eight: 'Ae178B4a',
    app: { client_id: 'Iv1.8a61f9b3a7aba766', name: 'Demo', url: 'https://example.com' },
    note: null,
    note_url: null,
    updated_at: '2026-11-21T11:00:00Z',
    created_at: '2026-11-21T10:00:00Z',
    fingerprint: null,
    user: { login: 'octocat', id: 1, node_id: 'MDQ6VXNlcjE=', type: 'User', site_admin: false },
    expires_at: null,
    ...overrides,
  };
}

const active = (a: PublicAuthorization): CheckResult => ({ active: true, authorization: a });

describe('toIntrospectionResponse', () => {
  it('maps an authorization to the RFC 7662 fields in order, with only non-secret extras', () => {
    const answer = toIntrospectionResponse(
      active(authorization({ expires_at: '2026-11-21T20:00:00Z' })),
      'demo',
      NOW,
    );
    expect(JSON.stringify(answer)).toBe(
      JSON.stringify({
        active: true,
        scope: 'repo read:org',
        client_id: 'Iv1.8a61f9b3a7aba766',
        username: 'octocat',
        sub: '1',
        token_type: 'bearer',
        exp: Date.UTC(2026, 10, 21, 20) / 1000,
        iat: Date.UTC(2026, 10, 21, 10) / 1000,
        github: { token_last_eight: 'Ae178B4a', app: 'demo' },
      }),
    );
  });

  it('is the frozen {"active": false} for an inactive result', () => {
    const answer = toIntrospectionResponse({ active: false }, 'demo', NOW);
    expect(answer).toBe(INACTIVE);
    expect(Object.isFrozen(answer)).toBe(true);
    expect(JSON.stringify(answer)).toBe('{"active":false}');
  });

  it('is inactive once expires_at is reached, and when expires_at does not parse', () => {
    const at = (expires_at: string) =>
      toIntrospectionResponse(active(authorization({ expires_at })), 'demo', NOW);
    expect(at('2026-11-21T12:00:01Z').active).toBe(true);
    expect(at('2026-11-21T12:00:00Z')).toBe(INACTIVE);
    expect(at('not a date')).toBe(INACTIVE);
  });

  it('omits scope for a token without scopes and drops values that are not scope tokens', () => {
    expect(
      toIntrospectionResponse(active(authorization({ scopes: [] })), 'a', NOW),
    ).not.toHaveProperty('scope');
    expect(
      toIntrospectionResponse(active(authorization({ scopes: null })), 'a', NOW),
    ).not.toHaveProperty('scope');
    expect(
      toIntrospectionResponse(
        active(authorization({ scopes: ['repo', 'bad scope', 'x"y', 'gist'] })),
        'a',
        NOW,
      ),
    ).toMatchObject({ scope: 'repo gist' });
  });

  it('omits username and sub when GHES names no user', () => {
    const answer = toIntrospectionResponse(active(authorization({ user: null })), 'a', NOW);
    expect(answer).not.toHaveProperty('username');
    expect(answer).not.toHaveProperty('sub');
    expect(answer.active).toBe(true);
  });

  it('passes on installation permissions, selection and account login, nothing else', () => {
    // A variable, not a literal: the extra field is what the test is about.
    const ORG_ACCOUNT_WITH_EXTRAS = {
      login: 'octo-org',
      id: 3,
      avatar_url: 'https://ghes.test/a/3',
    };
    const answer = toIntrospectionResponse(
      active(
        authorization({
          installation: {
            permissions: { contents: 'read', issues: 'write' },
            repository_selection: 'selected',
            single_file_name: null,
            repositories_url: 'https://ghes.test/api/v3/user/repos',
            account: ORG_ACCOUNT_WITH_EXTRAS,
          },
        }),
      ),
      'app',
      NOW,
    );
    expect(answer).toMatchObject({
      github: {
        token_last_eight: 'Ae178B4a',
        app: 'app',
        installation: {
          permissions: { contents: 'read', issues: 'write' },
          repository_selection: 'selected',
          account: 'octo-org',
        },
      },
    });
    expect(JSON.stringify(answer)).not.toContain('repositories_url');
  });

  it('never carries token or hashed_token, even if an authorization holds them', () => {
    const leaky = {
      ...authorization(),
      token: 'gho_secret',
      hashed_token: 'hash',
    } as PublicAuthorization;
    const text = JSON.stringify(toIntrospectionResponse(active(leaky), 'a', NOW));
    expect(text).not.toContain('gho_secret');
    expect(text).not.toContain('hashed_token');
  });
});

describe('isLive', () => {
  it('treats a missing expires_at as never expiring', () => {
    expect(isLive(authorization({ expires_at: null }), NOW)).toBe(true);
    const { expires_at: _, ...without } = authorization();
    expect(isLive(without, NOW)).toBe(true);
  });
});

describe('introspectionAnswer (memoised per cached result)', () => {
  it('is toIntrospectionResponse and its JSON, built once per result and app', () => {
    const result = active(authorization({ expires_at: new Date(NOW + 60_000).toISOString() }));
    const first = introspectionAnswer(result, 'demo', NOW);
    expect(first.answer).toEqual(toIntrospectionResponse(result, 'demo', NOW));
    expect(JSON.parse(first.json)).toEqual(first.answer);
    // The same cached result again: the same serialised answer, not a new one.
    expect(introspectionAnswer(result, 'demo', NOW + 1000)).toBe(first);
    // Another app's view of it names that app.
    const other = introspectionAnswer(result, 'other', NOW);
    expect(other.answer).toEqual(toIntrospectionResponse(result, 'other', NOW));
  });

  it('still turns inactive at expires_at, memo or not', () => {
    const exp = NOW + 60_000;
    const result = active(authorization({ expires_at: new Date(exp).toISOString() }));
    expect(introspectionAnswer(result, 'demo', exp - 1).answer.active).toBe(true);
    for (const now of [exp, exp + 1, exp + 86_400_000]) {
      expect(introspectionAnswer(result, 'demo', now).answer).toEqual(INACTIVE);
      expect(introspectionAnswer(result, 'demo', now).json).toBe('{"active":false}');
    }
    // An unparseable expiry is never live, as isLive says.
    const broken = active(authorization({ expires_at: 'not a date' }));
    expect(introspectionAnswer(broken, 'demo', NOW).answer).toEqual(INACTIVE);
    expect(introspectionAnswer({ active: false }, 'demo', NOW).json).toBe('{"active":false}');
  });
});
