/**
 * The config of the caller-identity options, rate-limit periods and scoped ceilings (src/config/),
 * and `callerAuthOptions`, which carries it to every `callerAuth` instance.
 */
import { Hono } from 'hono';
import type { JWTVerifyGetKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  callerAuth,
  callerAuthOptions,
  type CallerAuthVariables,
} from '../../src/auth/caller-auth';
import { createCallerKeySet } from '../../src/auth/keys';
import { parseConfig } from '../../src/config/parse';
import type { GatewayConfig } from '../../src/config/types';
import { ConfigurationError, isGatewayError, problemResponse } from '../../src/lib/errors';
import type { LogRecord } from '../../src/lib/log';
import {
  createTestCallerKeys,
  mintCallerJwt,
  withOverrides,
  type TestCallerKeys,
} from '../helpers/caller';
import { T0 } from './harness';

const SECRET = 'client-secret-value-0123456789abcdef';
const PEPPER = 'cache-pepper-value-0123456789abcdef0123456789abcdef';
const SHA256 = '3c2f1a9e8d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a';
const SHA1 = '6b9109f323999e52259cda7373ff0b4d26bd232e';

let keys: TestCallerKeys;
beforeAll(async () => {
  keys = await createTestCallerKeys('k1');
});

function baseEnv(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const env: Record<string, unknown> = {
    GHES_BASE_URL: 'https://ghes.example.com/api/v3',
    APPS: JSON.stringify([
      {
        name: 'octo-app',
        client_id: 'Iv1.0123456789abcdef',
        kind: 'github_app',
        client_secret_binding: 'OCTO_APP_SECRET',
      },
    ]),
    OCTO_APP_SECRET: SECRET,
    CALLER_ISSUER: 'https://callers.test',
    CALLER_AUDIENCE: 'ghes-token-gateway',
    CALLER_JWKS: JSON.stringify(keys.jwks),
    CALLER_POLICY: JSON.stringify({
      'svc-demo': { apps: ['*'], operations: ['check', 'scoped'] },
      'svc-edge': { apps: ['octo-app'], operations: ['introspect', 'forward_auth'] },
    }),
    CACHE_PEPPER: PEPPER,
    PUBLIC_URL: 'https://gateway.example.com',
  };
  return withOverrides(env, overrides);
}

function parsed(env: Record<string, unknown>): GatewayConfig {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(`expected a valid config: ${result.error.join('; ')}`);
  return result.value;
}

function errorsOf(env: Record<string, unknown>): string {
  const result = parseConfig(env);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.error.join('\n');
}

const ACCESS_VARS = {
  ACCESS_TEAM_DOMAIN: 'acme.cloudflareaccess.com',
  ACCESS_AUD: 'a1b2c3',
  ACCESS_SUBJECTS: JSON.stringify({ 'ops@example.com': 'svc-demo' }),
};

describe('identity options in the config', () => {
  it('leaves Access and mTLS off by default and when every var is empty (as wrangler.toml has them)', () => {
    for (const env of [
      baseEnv(),
      baseEnv({ ACCESS_TEAM_DOMAIN: '', ACCESS_AUD: '', ACCESS_SUBJECTS: '', MTLS_CALLERS: '' }),
    ]) {
      const config = parsed(env);
      expect(config.caller.access).toBeUndefined();
      expect(config.caller.mtls).toBeUndefined();
    }
  });

  it('turns Access on with all three vars, normalizing the team domain', () => {
    const config = parsed(baseEnv(ACCESS_VARS));
    expect(config.caller.access).toEqual({
      teamDomain: 'https://acme.cloudflareaccess.com',
      audience: ['a1b2c3'],
      subjects: { 'ops@example.com': 'svc-demo' },
    });
    const withScheme = parsed(
      baseEnv({
        ...ACCESS_VARS,
        ACCESS_TEAM_DOMAIN: 'https://acme.cloudflareaccess.com/',
        ACCESS_AUD: '["a1","b2"]',
      }),
    );
    expect(withScheme.caller.access?.teamDomain).toBe('https://acme.cloudflareaccess.com');
    expect(withScheme.caller.access?.audience).toEqual(['a1', 'b2']);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'half-configured Access',
      { ACCESS_TEAM_DOMAIN: 'acme.cloudflareaccess.com' },
      /ACCESS_TEAM_DOMAIN: set all of ACCESS_TEAM_DOMAIN, ACCESS_AUD and ACCESS_SUBJECTS, or none/,
    ],
    [
      'an http team domain',
      { ...ACCESS_VARS, ACCESS_TEAM_DOMAIN: 'http://acme.cloudflareaccess.com' },
      /ACCESS_TEAM_DOMAIN: must be the team domain/,
    ],
    [
      'a team domain with a path',
      { ...ACCESS_VARS, ACCESS_TEAM_DOMAIN: 'https://acme.cloudflareaccess.com/cdn-cgi' },
      /ACCESS_TEAM_DOMAIN: must be the team domain/,
    ],
    [
      'a malformed AUD tag',
      { ...ACCESS_VARS, ACCESS_AUD: 'not a tag' },
      /ACCESS_AUD\.0: is not an Access AUD tag/,
    ],
    ['an empty AUD list', { ...ACCESS_VARS, ACCESS_AUD: '[]' }, /ACCESS_AUD/],
    [
      'an Access identity mapped to an unknown sub',
      { ...ACCESS_VARS, ACCESS_SUBJECTS: '{"ops@example.com":"svc-nobody"}' },
      /ACCESS_SUBJECTS\.ops@example.com: "svc-nobody" has no CALLER_POLICY entry/,
    ],
    [
      'an empty Access map',
      { ...ACCESS_VARS, ACCESS_SUBJECTS: '{}' },
      /ACCESS_SUBJECTS: maps no identity/,
    ],
    [
      'a malformed fingerprint',
      { MTLS_CALLERS: '{"abc":"svc-edge"}' },
      /MTLS_CALLERS\.abc: is not a SHA-256 \(64 hex\) or SHA-1 \(40 hex\) fingerprint/,
    ],
    [
      'a fingerprint listed twice in different spellings',
      {
        MTLS_CALLERS: JSON.stringify({ [SHA256]: 'svc-edge', [SHA256.toUpperCase()]: 'svc-demo' }),
      },
      /repeats a fingerprint/,
    ],
    [
      'a certificate mapped to an unknown sub',
      { MTLS_CALLERS: JSON.stringify({ [SHA256]: 'svc-nobody' }) },
      /"svc-nobody" has no CALLER_POLICY entry/,
    ],
    ['an empty mTLS map', { MTLS_CALLERS: '{}' }, /MTLS_CALLERS: maps no certificate/],
    ['MTLS_CALLERS that is not JSON', { MTLS_CALLERS: '{' }, /MTLS_CALLERS: is not valid JSON/],
    [
      'a sub that is an Object.prototype member',
      { MTLS_CALLERS: JSON.stringify({ [SHA256]: 'toString' }) },
      /"toString" has no CALLER_POLICY entry/,
    ],
  ])('refuses %s', (_name, vars, message) => {
    expect(errorsOf(baseEnv(vars))).toMatch(message);
  });

  it('turns mTLS on, normalizing fingerprints (case, colons) and keeping SHA-1 entries', () => {
    const colons = SHA256.toUpperCase().match(/../g)?.join(':') as string;
    const config = parsed(
      baseEnv({ MTLS_CALLERS: JSON.stringify({ [colons]: 'svc-edge', [SHA1]: 'svc-demo' }) }),
    );
    expect(config.caller.mtls?.callers).toEqual(
      new Map([
        [SHA256, 'svc-edge'],
        [SHA1, 'svc-demo'],
      ]),
    );
  });
});

describe('rate-limit periods in the config', () => {
  it('defaults to 60 s and names the bindings', () => {
    expect(parsed(baseEnv()).rateLimits).toEqual({
      introspection: { binding: 'INTROSPECTION_RATE_LIMITER', periodS: 60 },
      mutation: { binding: 'MUTATION_RATE_LIMITER', periodS: 60 },
      client: { binding: 'CLIENT_RATE_LIMITER', periodS: 60, header: 'x-forwarded-for' },
      userLogin: { binding: 'USER_LOGIN_RATE_LIMITER', periodS: 60 },
    });
    expect(
      parsed(baseEnv({ INTROSPECTION_RATE_LIMIT_PERIOD_S: '', MUTATION_RATE_LIMIT_PERIOD_S: '' }))
        .rateLimits.mutation.periodS,
    ).toBe(60);
  });

  it('accepts 10 and refuses periods the binding does not support', () => {
    expect(
      parsed(baseEnv({ MUTATION_RATE_LIMIT_PERIOD_S: '10' })).rateLimits.mutation.periodS,
    ).toBe(10);
    expect(errorsOf(baseEnv({ INTROSPECTION_RATE_LIMIT_PERIOD_S: '30' }))).toMatch(
      /INTROSPECTION_RATE_LIMIT_PERIOD_S: must be 10 or 60/,
    );
    expect(parsed(baseEnv({ CLIENT_RATE_LIMIT_PERIOD_S: '10' })).rateLimits.client.periodS).toBe(
      10,
    );
    expect(errorsOf(baseEnv({ CLIENT_RATE_LIMIT_PERIOD_S: '15' }))).toMatch(
      /CLIENT_RATE_LIMIT_PERIOD_S: must be 10 or 60/,
    );
  });
});

describe('CLIENT_ADDRESS_HEADER', () => {
  it('defaults to X-Forwarded-For, also when blank, and is kept lower-case', () => {
    expect(parsed(baseEnv()).rateLimits.client.header).toBe('x-forwarded-for');
    expect(parsed(baseEnv({ CLIENT_ADDRESS_HEADER: '' })).rateLimits.client.header).toBe(
      'x-forwarded-for',
    );
    expect(parsed(baseEnv({ CLIENT_ADDRESS_HEADER: 'X-Real-IP' })).rateLimits.client.header).toBe(
      'x-real-ip',
    );
    expect(parsed(baseEnv({ CLIENT_ADDRESS_HEADER: 'Forwarded' })).rateLimits.client.header).toBe(
      'forwarded',
    );
  });

  it.each(['X Forwarded For', 'x-forwarded-for:', 'é', 'a'.repeat(65), 'X-Real-IP\r\n'])(
    'refuses %j as no header name',
    (value) => {
      expect(errorsOf(baseEnv({ CLIENT_ADDRESS_HEADER: value }))).toMatch(
        /CLIENT_ADDRESS_HEADER: must be an HTTP header name/,
      );
    },
  );

  it.each(['Authorization', 'x-gateway-authorization', 'Cookie', 'Proxy-Authorization'])(
    'refuses %s: a credential must never become a rate-limit key',
    (value) => {
      expect(errorsOf(baseEnv({ CLIENT_ADDRESS_HEADER: value }))).toMatch(
        /CLIENT_ADDRESS_HEADER: must not be a header that carries credentials/,
      );
    },
  );
});

describe('scoped ceilings in the config', () => {
  const policyWith = (scoped: unknown) =>
    JSON.stringify({ 'svc-demo': { apps: ['*'], operations: ['scoped'], scoped } });

  it('parses a full ceiling', () => {
    const scoped = {
      permissions: { contents: 'read', issues: 'write' },
      targets: ['octo-org'],
      target_ids: [42],
      repositories: ['infra'],
      require_repositories: true,
    };
    expect(
      parsed(baseEnv({ CALLER_POLICY: policyWith(scoped) })).caller.policy['svc-demo']?.scoped,
    ).toEqual(scoped);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'an unknown level',
      { permissions: { contents: 'owner' } },
      /CALLER_POLICY\.svc-demo\.scoped\.permissions\.contents/,
    ],
    [
      'a permission GHES does not know',
      { permissions: { content: 'read' } },
      /scoped\.permissions\.content: is not a scoped-token permission of GHES 3\.22/,
    ],
    [
      'an empty permission map',
      { permissions: {} },
      /scoped\.permissions: must list at least one permission/,
    ],
    ['an empty target list', { targets: [] }, /scoped\.targets/],
    ['a non-integer target id', { target_ids: [1.5] }, /scoped\.target_ids\.0/],
    ['an empty repository list', { repositories: [] }, /scoped\.repositories/],
    [
      'require_repositories false next to repositories',
      { repositories: ['infra'], require_repositories: false },
      /scoped\.require_repositories: cannot be false when repositories is set/,
    ],
    ['an unknown member', { permission: { contents: 'read' } }, /scoped/],
  ])('refuses %s', (_name, scoped, message) => {
    expect(errorsOf(baseEnv({ CALLER_POLICY: policyWith(scoped) }))).toMatch(message);
  });

  it('skips the permission-name check for GHES versions without scoped tokens', () => {
    const config = parsed(
      baseEnv({
        GHES_VERSION: '2.22',
        CALLER_POLICY: policyWith({ permissions: { anything: 'read' } }),
      }),
    );
    expect(config.caller.policy['svc-demo']?.scoped?.permissions).toEqual({ anything: 'read' });
  });
});

describe('callerAuthOptions', () => {
  const deps = (config: GatewayConfig, accessKeySet?: JWTVerifyGetKey) => ({
    config,
    callerKeySet: createCallerKeySet(config.caller),
    ...(accessKeySet !== undefined && { accessKeySet }),
    log: (_r: LogRecord) => {},
    clock: { now: () => T0 },
  });

  it('carries the caller config, the header, and the identity options', () => {
    const config = parsed(
      baseEnv({
        ...ACCESS_VARS,
        MTLS_CALLERS: JSON.stringify({ [SHA256]: 'svc-edge' }),
        CALLER_MAX_TOKEN_AGE_S: '600',
        CALLER_CLOCK_TOLERANCE_S: '10',
      }),
    );
    const accessKeySet: JWTVerifyGetKey = async () => {
      throw new Error('not used');
    };
    const options = callerAuthOptions(deps(config, accessKeySet), 'x-gateway-authorization');
    expect(options).toMatchObject({
      issuer: 'https://callers.test',
      audience: 'ghes-token-gateway',
      algorithms: ['ES256'],
      clockToleranceS: 10,
      maxTokenAgeS: 600,
      header: 'x-gateway-authorization',
      policy: config.caller.policy,
      access: { config: config.caller.access, keySet: accessKeySet },
      mtls: config.caller.mtls,
    });
    expect(() => callerAuth(options)).not.toThrow();
  });

  it('defaults to the Authorization header and leaves Access and mTLS off when not configured', () => {
    const options = callerAuthOptions(deps(parsed(baseEnv())));
    expect(options.header).toBe('authorization');
    expect(options.access).toBeUndefined();
    expect(options.mtls).toBeUndefined();
  });

  it('refuses to build when Access is configured but its key set was not wired', () => {
    expect(() => callerAuthOptions(deps(parsed(baseEnv(ACCESS_VARS))))).toThrow(
      /Cloudflare Access is configured but no Access key set was built/,
    );
    expect(() => callerAuthOptions(deps(parsed(baseEnv(ACCESS_VARS))))).toThrow(ConfigurationError);
  });

  it('applies CALLER_MAX_TOKEN_AGE_S end to end', async () => {
    const config = parsed(
      baseEnv({ CALLER_MAX_TOKEN_AGE_S: '300', CALLER_CLOCK_TOLERANCE_S: '0' }),
    );
    const app = new Hono<{ Variables: CallerAuthVariables }>();
    app.use('*', callerAuth(callerAuthOptions(deps(config))));
    app.get('/', (c) => c.text(c.get('caller').sub));
    app.onError((e) => {
      if (isGatewayError(e)) return problemResponse(e);
      throw e;
    });
    const fresh = await mintCallerJwt(
      keys,
      { sub: 'svc-demo', iat: T0 / 1000 - 300, exp: T0 / 1000 + 600 },
      {},
      { now: T0 },
    );
    const old = await mintCallerJwt(
      keys,
      { sub: 'svc-demo', iat: T0 / 1000 - 301, exp: T0 / 1000 + 600 },
      {},
      { now: T0 },
    );
    expect((await app.request('/', { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(
      200,
    );
    const res = await app.request('/', { headers: { authorization: `Bearer ${old}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('token too old');
  });
});
