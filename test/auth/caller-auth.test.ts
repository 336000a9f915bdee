import { describe, expect, it } from 'vitest';
import {
  LOCAL_DEV_TOKEN_HINT,
  callerAuth,
  type CallerAuthOptions,
} from '../../src/auth/caller-auth';
import { createCallerKeySet } from '../../src/auth/keys';
import { ConfigurationError, PROBLEM_CONTENT_TYPE } from '../../src/lib/errors';
import { TEST_CALLER_AUDIENCE, TEST_CALLER_ISSUER, createTestCallerKeys } from '../helpers/caller';
import { createTestGateway } from '../helpers/gateway';
import { TEST_POLICY, challenge, createHarness, minterFor, problemOf } from './harness';

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

describe('local dev: a 401 says how to get a fresh caller token', () => {
  const HINT = 'npm run -s caller-token';

  it('for an expired caller JWT, with the challenge unchanged', async () => {
    const h = createHarness({ keys, localDev: true });
    const token = await mint();
    h.clock.ms += 2 * 3600_000;
    const res = await h.bearer(token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('token expired'));
    const body = await problemOf(res);
    expect(body.detail).toBe(`Invalid caller token: token expired. ${LOCAL_DEV_TOKEN_HINT}`);
    expect(body.detail).toContain(HINT);
  });

  it('for a request with no credentials', async () => {
    const h = createHarness({ keys, localDev: true });
    const body = await problemOf(await h.request());
    expect(body.detail).toBe(`Bearer credentials required. ${LOCAL_DEV_TOKEN_HINT}`);
  });

  it('not for a token a fresh dev token would not cure, nor outside local dev', async () => {
    const other = await createTestCallerKeys();
    const dev = createHarness({ keys, localDev: true });
    const foreign = await problemOf(await dev.bearer(await minterFor(other)()));
    expect(foreign.detail).toBe('Invalid caller token: signature verification failed.');

    const deployed = createHarness({ keys });
    const token = await mint();
    deployed.clock.ms += 2 * 3600_000;
    expect((await problemOf(await deployed.bearer(token))).detail).not.toContain(HINT);
    expect((await problemOf(await deployed.request())).detail).not.toContain(HINT);
  });

  it('through the gateway: LOCAL_DEV = "true" turns it on, every deployed environment off', async () => {
    for (const [localDev, hinted] of [
      ['true', true],
      ['false', false],
    ] as const) {
      const gw = await createTestGateway({ vars: { LOCAL_DEV: localDev } });
      const expired = await gw.caller('svc-demo', { exp: Math.floor(gw.clock.now() / 1000) - 60 });
      const res = await gw.request('/v1/apps/demo-oauth/token/check', {
        method: 'POST',
        headers: { authorization: `Bearer ${expired}`, 'content-type': 'application/json' },
        body: '{"access_token":"gho_x"}',
      });
      expect(res.status).toBe(401);
      expect((await problemOf(res)).detail?.includes(HINT), `LOCAL_DEV=${localDev}`).toBe(hinted);
    }
  });
});
