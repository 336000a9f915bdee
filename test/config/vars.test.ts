/**
 * How vars arrive (src/config/vars.ts) and what the valibot schema refuses that its own defaults
 * would let through: arrays read as tables or objects, and table keys valibot's record drops.
 * Every error names the var and never quotes its value.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse';
import { withOverrides } from '../helpers/caller';
import { FIXTURE_APPS, TEST_PUBLIC_EC_JWK } from './fixtures';

const PEPPER = 'cache-pepper-value-0123456789abcdef0123456789abcdef';
const POLICY = { 'svc-a': { apps: ['*'], operations: ['check', 'scoped'] } };
const FINGERPRINT = 'ab'.repeat(32);

function env(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return withOverrides(
    {
      GHES_BASE_URL: 'https://ghes.example.com/api/v3',
      APPS: JSON.stringify(FIXTURE_APPS),
      OAUTH_SECRET: 'oauth-client-secret-4f1c9e2b7a6d5c3e8f0a',
      APP_SECRET: 'github-app-client-secret-9b8a7c6d5e4f3a2b1c0d',
      CALLER_ISSUER: 'https://callers.example.com',
      CALLER_AUDIENCE: 'ghes-token-gateway',
      CALLER_JWKS: JSON.stringify({ keys: [TEST_PUBLIC_EC_JWK] }),
      CALLER_POLICY: JSON.stringify(POLICY),
      CACHE_PEPPER: PEPPER,
      PUBLIC_URL: 'https://gateway.example.com',
    },
    overrides,
  );
}

function errorsOf(overrides: Record<string, unknown>): string[] {
  const result = parseConfig(env(overrides));
  if (result.ok) throw new Error('expected the config to be refused');
  return result.error;
}

const policy = (entry: Record<string, unknown>) =>
  JSON.stringify({ 'svc-a': { ...POLICY['svc-a'], ...entry } });

describe('numbers are read as before', () => {
  it.each([
    ['1e3', 1000],
    [' 1500 ', 1500],
    [1500, 1500],
  ])('GHES_TIMEOUT_MS = %j → %d', (value, expected) => {
    const result = parseConfig(env({ GHES_TIMEOUT_MS: value }));
    expect(result.ok && result.value.ghes.timeoutMs).toBe(expected);
  });

  it.each(['Infinity', 'NaN', true, null, '1500.5', '0x'])(
    'GHES_TIMEOUT_MS = %j is refused',
    (value) => {
      expect(errorsOf({ GHES_TIMEOUT_MS: value })[0]).toMatch(/^GHES_TIMEOUT_MS: /);
    },
  );

  it('a rate-limit period that is not a number gets the period message', () => {
    expect(errorsOf({ MUTATION_RATE_LIMIT_PERIOD_S: 'sixty' })).toEqual([
      'MUTATION_RATE_LIMIT_PERIOD_S: must be 10 or 60, the period of the rate-limiting binding',
    ]);
  });
});

describe('an array is not a table or an object', () => {
  it.each([
    ['CALLER_POLICY', '[]', 'CALLER_POLICY: must be an object'],
    ['CALLER_POLICY', policy({ scoped: [] }), 'CALLER_POLICY.svc-a.scoped: must be an object'],
    [
      'CALLER_POLICY',
      policy({ scoped: { permissions: ['read'] } }),
      'CALLER_POLICY.svc-a.scoped.permissions: must be an object',
    ],
    ['ACCESS_SUBJECTS', '[]', 'ACCESS_SUBJECTS: must be an object'],
    ['MTLS_CALLERS', '["svc-a"]', 'MTLS_CALLERS: must be an object'],
    ['CALLER_JWKS', '[]', 'CALLER_JWKS: must be an object'],
  ])('%s = %s', (name, value, message) => {
    expect(errorsOf({ [name]: value })).toContain(message);
  });
});

describe('table keys valibot would drop are refused, not dropped', () => {
  const reserved = 'cannot use "__proto__", "prototype" or "constructor" as a key';
  it.each([
    ['CALLER_POLICY', JSON.stringify({ ...POLICY, constructor: POLICY['svc-a'] })],
    ['CALLER_POLICY', `{"svc-a":${JSON.stringify(POLICY['svc-a'])},"__proto__":{}}`],
    ['ACCESS_SUBJECTS', JSON.stringify({ prototype: 'svc-a' })],
    ['MTLS_CALLERS', JSON.stringify({ [FINGERPRINT]: 'svc-a', constructor: 'svc-a' })],
  ])('%s = %s', (name, value) => {
    expect(errorsOf({ [name]: value })).toContain(`${name}: ${reserved}`);
  });

  it('in a scoped ceiling', () => {
    const value = policy({ scoped: { permissions: { contents: 'read', constructor: 'read' } } });
    expect(errorsOf({ CALLER_POLICY: value })).toEqual([
      `CALLER_POLICY.svc-a.scoped.permissions: ${reserved}`,
    ]);
  });
});

describe('messages name the field, never the value', () => {
  const SECRETISH = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';
  it.each([
    ['GHES_API_STYLE', SECRETISH, 'GHES_API_STYLE: Invalid option'],
    ['GHES_TIMEOUT_MS', SECRETISH, 'GHES_TIMEOUT_MS: Invalid type: expected number'],
    ['CALLER_ISSUER', 42, 'CALLER_ISSUER: Invalid type: expected string'],
    [
      'CALLER_POLICY',
      policy({ operations: [SECRETISH] }),
      'CALLER_POLICY.svc-a.operations.0: Invalid option',
    ],
    [
      'CALLER_POLICY',
      policy({ apps: [] }),
      'CALLER_POLICY.svc-a.apps: Invalid length: expected >=1',
    ],
    [
      'CALLER_POLICY',
      policy({ [SECRETISH]: true }),
      `CALLER_POLICY.svc-a.${SECRETISH}: is not a known field`,
    ],
    ['CALLER_ISSUER', undefined, 'CALLER_ISSUER: is required'],
  ])('%s = %j', (name, value, start) => {
    const errors = errorsOf({ [name]: value });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.startsWith(start), errors[0]).toBe(true);
    // An unknown key is named (it is a field name); a value never is.
    if (!start.includes(SECRETISH)) expect(errors[0]).not.toContain(SECRETISH);
  });

  it('rules between vars are checked once each var passes its own', () => {
    expect(errorsOf({ CALLER_JWKS_URL: 'not a url' })).toEqual([
      'CALLER_JWKS_URL: is not a valid URL',
    ]);
    expect(errorsOf({ CALLER_JWKS_URL: 'https://callers.example.com/jwks.json' })).toEqual([
      'CALLER_JWKS: set exactly one of CALLER_JWKS (inline JSON) and CALLER_JWKS_URL',
    ]);
  });
});
