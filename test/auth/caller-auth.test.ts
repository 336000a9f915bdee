import { describe, expect, it } from 'vitest';
import { callerAuth, type CallerAuthOptions } from '../../src/auth/caller-auth';
import { createCallerKeySet } from '../../src/auth/keys';
import { ConfigurationError, PROBLEM_CONTENT_TYPE } from '../../src/lib/errors';
import { TEST_CALLER_AUDIENCE, TEST_CALLER_ISSUER, createTestCallerKeys } from '../helpers/caller';
import { TEST_POLICY, createHarness, minterFor } from './harness';

const keys = await createTestCallerKeys();
const mint = minterFor(keys);

describe('callerAuth middleware', () => {
  it('reads X-Gateway-Authorization when configured, ignoring Authorization', async () => {
    const h = createHarness({ keys, header: 'x-gateway-authorization' });
    const token = await mint();
    const ok = await h.request({
      'x-gateway-authorization': `Bearer ${token}`,
      authorization: 'Bearer ghp_end-user-token',
    });
    expect(ok.status).toBe(200);
    const missing = await h.request({ authorization: `Bearer ${token}` });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="ghes-token-gateway"');
    expect(h.seen).toHaveLength(1);
  });

  it('returns a named middleware', () => {
    const mw = callerAuth({
      issuer: 'i',
      audience: 'a',
      algorithms: ['ES256'],
      keySet: createCallerKeySet({ jwks: keys.jwks, jwksUrl: undefined, algorithms: ['ES256'] }),
      clockToleranceS: 0,
      maxTokenAgeS: 0,
      policy: {},
      log: () => {},
    });
    expect(mw.name).toBe('callerAuthMiddleware');
  });
});

describe('callerAuth option checks', () => {
  const base = (): CallerAuthOptions => ({
    issuer: TEST_CALLER_ISSUER,
    audience: TEST_CALLER_AUDIENCE,
    algorithms: ['ES256'],
    keySet: createCallerKeySet({ jwks: keys.jwks, jwksUrl: undefined, algorithms: ['ES256'] }),
    clockToleranceS: 30,
    maxTokenAgeS: 0,
    policy: TEST_POLICY,
    log: () => {},
  });

  it('builds with valid options', () => {
    expect(() => callerAuth(base())).not.toThrow();
  });

  it.each<[string, Partial<CallerAuthOptions> | Record<string, unknown>, RegExp]>([
    // The caller-JWT options are checked by createCallerVerifier: test/auth/caller-jwt.test.ts.
    [
      'an Access team domain that is not an https origin',
      {
        access: {
          config: { teamDomain: 'acme.cloudflareaccess.com', audience: ['a'], subjects: {} },
          keySet: async () => new Uint8Array(),
        },
      },
      /"access.config.teamDomain" must be an https origin/,
    ],
    [
      'Access without an audience',
      {
        access: {
          config: { teamDomain: 'https://acme.cloudflareaccess.com', audience: [], subjects: {} },
          keySet: async () => new Uint8Array(),
        },
      },
      /"access.config.audience" must list at least one AUD tag/,
    ],
    [
      'Access without a key set',
      {
        access: {
          config: {
            teamDomain: 'https://acme.cloudflareaccess.com',
            audience: ['a'],
            subjects: {},
          },
          keySet: undefined,
        },
      },
      /"access.keySet" must be a key resolver/,
    ],
    ['mTLS callers that are not a Map', { mtls: { callers: {} } }, /"mtls.callers" must be a Map/],
    [
      'bad header',
      { header: 'cookie' },
      /"header" must be "authorization" or "x-gateway-authorization"/,
    ],
    ['no logger', { log: undefined }, /"log" must be a Logger/],
  ])('throws on %s', (_name, patch, message) => {
    const options = { ...base(), ...patch } as CallerAuthOptions;
    expect(() => callerAuth(options)).toThrow(ConfigurationError);
    expect(() => callerAuth(options)).toThrow(message);
  });

  it('answers problem+json with no-store', async () => {
    const h = createHarness({ keys });
    const res = await h.request();
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
