/**
 * Cloudflare Access as a caller identity: assertions signed by the team's certs, audience-bound,
 * mapped through ACCESS_SUBJECTS, and the precedence rules against a Bearer credential.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_ASSERTION_HEADER, accessCertsUrl, createAccessKeySet } from '../../src/auth/access';
import type { AccessConfig, CallerPolicyEntry } from '../../src/config/types';
import { PROBLEM_TYPE_PREFIX } from '../../src/lib/errors';
import {
  TEST_CALLER_SUB,
  createTestCallerKeys,
  es256Signer,
  mintCallerJwt,
  signCompact,
  type TestCallerKeys,
} from '../helpers/caller';
import { TestClock } from '../helpers/clock';
import { T0, TEST_POLICY, challenge, createHarness, problemOf } from './harness';

const TEAM = 'https://acme.cloudflareaccess.com';
const AUD = '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2';
const CERTS = `${TEAM}/cdn-cgi/access/certs`;
const BARE = 'Bearer realm="ghes-token-gateway"';
const T0_S = T0 / 1000;

const POLICY: Record<string, CallerPolicyEntry> = {
  ...TEST_POLICY,
  'svc-portal': { apps: ['octo-oauth'], operations: ['check'] },
  'svc-batch': { apps: ['octo-oauth'], operations: ['check', 'introspect'] },
  'svc-orphan': { apps: ['octo-oauth'], operations: ['check'] },
};

const ACCESS: AccessConfig = {
  teamDomain: TEAM,
  audience: [AUD],
  subjects: {
    'alice@example.com': 'svc-portal',
    'a1b2c3d4e5.access': 'svc-batch',
    '7335d417-61da-459d-899c-0a01c76a2f94': 'svc-portal',
  },
};

interface RsaKeys {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function rsaKeys(kid: string): Promise<RsaKeys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256' } };
}

let access: RsaKeys;
let rogue: RsaKeys;
let callerKeys: TestCallerKeys;
beforeAll(async () => {
  access = await rsaKeys('access-key-1');
  rogue = await rsaKeys('access-key-1');
  callerKeys = await createTestCallerKeys('caller-key-1');
});

/** The claims of an Access application token for a person who signed in through the IdP. */
function userClaims(): Record<string, unknown> {
  return {
    aud: [AUD],
    email: 'alice@example.com',
    exp: T0_S + 3600,
    iat: T0_S - 60,
    nbf: T0_S - 60,
    iss: TEAM,
    type: 'app',
    identity_nonce: '6ei69kawdKzMIAPF',
    sub: '7335d417-61da-459d-899c-0a01c76a2f94',
    country: 'US',
  };
}

/** A service-token assertion: no email, an empty `sub`, the client id as `common_name`. */
function serviceClaims(): Record<string, unknown> {
  return {
    aud: [AUD],
    exp: T0_S + 3600,
    iat: T0_S - 60,
    iss: TEAM,
    type: 'app',
    common_name: 'a1b2c3d4e5.access',
    sub: '',
  };
}

async function assertion(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  keys: RsaKeys = access,
): Promise<string> {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: keys.kid, typ: 'JWT', ...header } as never)
    .sign(keys.privateKey);
}

/** The team's certs endpoint: counts fetches and answers the key set Access publishes. */
function certsServer(respond: () => Response | Promise<Response> = certsResponse) {
  const calls: string[] = [];
  return {
    calls,
    fetch: (async (input: RequestInfo | URL) => {
      calls.push(String(input));
      return respond();
    }) as typeof fetch,
  };
}

function certsResponse(): Response {
  // Access publishes `public_cert(s)` next to `keys`; only `keys` is used.
  return Response.json({
    keys: [access.publicJwk],
    public_cert: { kid: access.kid, cert: '-----BEGIN CERTIFICATE-----\n…' },
    public_certs: [{ kid: access.kid, cert: '-----BEGIN CERTIFICATE-----\n…' }],
  });
}

function accessHarness(
  server = certsServer(),
  config: AccessConfig = ACCESS,
  extra: { header?: 'authorization' | 'x-gateway-authorization' } = {},
) {
  const keySet = createAccessKeySet(config, { fetch: server.fetch, clock: new TestClock(T0) });
  const h = createHarness({
    keys: callerKeys,
    policy: POLICY,
    access: { config, keySet },
    ...extra,
  });
  return { h, server };
}

describe('Cloudflare Access identity', () => {
  it('builds the certs URL below the team domain', () => {
    expect(accessCertsUrl(TEAM)).toBe(CERTS);
    expect(accessCertsUrl(`${TEAM}/`)).toBe(CERTS);
  });

  it('maps a signed-in person by email and records the identity', async () => {
    const { h, server } = accessHarness();
    const res = await h.request({ [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()) });
    expect(res.status).toBe(200);
    expect(h.seen).toEqual([
      {
        source: 'access',
        sub: 'svc-portal',
        policy: POLICY['svc-portal'],
        identity: 'alice@example.com',
        claims: { iss: TEAM, aud: [AUD], exp: T0_S + 3600, iat: T0_S - 60 },
      },
    ]);
    expect(Object.isFrozen(h.seen[0])).toBe(true);
    expect(server.calls).toEqual([CERTS]);
  });

  it('maps a service token by common_name (its sub is empty)', async () => {
    const { h } = accessHarness();
    const res = await h.request({ 'Cf-Access-Jwt-Assertion': await assertion(serviceClaims()) });
    expect(res.status).toBe(200);
    expect(h.seen[0]).toMatchObject({
      source: 'access',
      sub: 'svc-batch',
      identity: 'a1b2c3d4e5.access',
    });
  });

  it('falls back to sub when the email is not mapped', async () => {
    const { h } = accessHarness();
    const res = await h.request({
      [ACCESS_ASSERTION_HEADER]: await assertion({ ...userClaims(), email: 'bob@example.com' }),
    });
    expect(res.status).toBe(200);
    expect(h.seen[0]).toMatchObject({
      sub: 'svc-portal',
      identity: '7335d417-61da-459d-899c-0a01c76a2f94',
    });
  });

  it('accepts any of several configured AUD tags', async () => {
    const { h } = accessHarness(certsServer(), { ...ACCESS, audience: ['other-app', AUD] });
    const res = await h.request({ [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()) });
    expect(res.status).toBe(200);
  });

  it('fetches the certs once for many assertions', async () => {
    const { h, server } = accessHarness();
    for (let i = 0; i < 5; i++) {
      const token = await assertion({ ...userClaims(), identity_nonce: `n${i}` });
      expect((await h.request({ [ACCESS_ASSERTION_HEADER]: token })).status).toBe(200);
    }
    expect(server.calls).toHaveLength(1);
  });
});

interface RefusalCase {
  name: string;
  token: () => Promise<string>;
  status: 401 | 403;
  reason: RegExp;
  detail: string;
}

const refusals: RefusalCase[] = [
  {
    name: 'a signature by a key Access does not publish',
    token: () => assertion(userClaims(), {}, rogue),
    status: 401,
    reason: /Access JWT ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
    detail: 'Invalid Cloudflare Access assertion: signature verification failed.',
  },
  {
    name: 'a token for another Access application (aud)',
    token: () => assertion({ ...userClaims(), aud: ['another-app-aud'] }),
    status: 401,
    reason: /Access JWT .*aud.*got "\[\\"another-app-aud\\"\]"/,
    detail: 'Invalid Cloudflare Access assertion: audience not accepted.',
  },
  {
    name: 'another team (iss)',
    token: () => assertion({ ...userClaims(), iss: 'https://evil.cloudflareaccess.com' }),
    status: 401,
    reason: /Access JWT .*iss.*got "https:\/\/evil.cloudflareaccess.com"/,
    detail: 'Invalid Cloudflare Access assertion: issuer not accepted.',
  },
  {
    name: 'an expired assertion (past the tolerance)',
    token: () => assertion({ ...userClaims(), exp: T0_S - 31 }),
    status: 401,
    reason: /Access JWT expired/,
    detail: 'Invalid Cloudflare Access assertion: token expired.',
  },
  {
    name: 'no exp',
    token: () => assertion({ ...userClaims(), exp: undefined }),
    status: 401,
    reason: /Access JWT .*"exp" claim/,
    detail: 'Invalid Cloudflare Access assertion: required claim exp missing.',
  },
  {
    name: 'a future nbf',
    token: () => assertion({ ...userClaims(), nbf: T0_S + 120 }),
    status: 401,
    reason: /Access JWT .*nbf/,
    detail: 'Invalid Cloudflare Access assertion: token not yet valid.',
  },
  {
    name: 'an iat in the future (past the tolerance)',
    token: () => assertion({ ...userClaims(), iat: T0_S + 31 }),
    status: 401,
    reason: /Access JWT "iat" is 31 s in the future \(clock tolerance 30 s\)/,
    detail: 'Invalid Cloudflare Access assertion: token issued in the future.',
  },
  {
    name: 'an iat a year in the future',
    token: () => assertion({ ...userClaims(), iat: T0_S + 365 * 86_400 }),
    status: 401,
    reason: /Access JWT "iat" is 31536000 s in the future/,
    detail: 'Invalid Cloudflare Access assertion: token issued in the future.',
  },
  {
    name: 'an algorithm other than RS256',
    token: async () => {
      const ec = await createTestCallerKeys('access-key-1');
      return signCompact(
        { alg: 'ES256', kid: 'access-key-1', typ: 'JWT' },
        userClaims(),
        es256Signer(ec.privateKey),
      );
    },
    status: 401,
    reason: /Access JWT ERR_JOSE_ALG_NOT_ALLOWED/,
    detail: 'Invalid Cloudflare Access assertion: algorithm not accepted.',
  },
  {
    name: 'alg none',
    token: async () => {
      const enc = (v: unknown) =>
        btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
      return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(userClaims())}.`;
    },
    status: 401,
    reason: /Access JWT/,
    detail: 'Invalid Cloudflare Access assertion: algorithm not accepted.',
  },
  {
    name: 'a crit header',
    token: () => assertion(userClaims(), { crit: ['b64'], b64: true }),
    status: 401,
    reason: /Access JWT has a "crit" header/,
    detail: 'Invalid Cloudflare Access assertion: critical header extensions not supported.',
  },
  {
    name: 'another token type',
    token: () => assertion(userClaims(), { typ: 'dpop+jwt' }),
    status: 401,
    reason: /Access JWT has typ "dpop\+jwt"/,
    detail: 'Invalid Cloudflare Access assertion: token type not accepted.',
  },
  {
    name: 'garbage',
    token: async () => 'not-a-jwt',
    status: 401,
    reason: /Access JWT malformed/,
    detail: 'Invalid Cloudflare Access assertion: malformed token.',
  },
  {
    name: 'an over-long assertion',
    token: async () => 'a'.repeat(8193),
    status: 401,
    reason: /Access JWT longer than 8192 characters/,
    detail: 'Invalid Cloudflare Access assertion: malformed token.',
  },
  {
    name: 'a valid assertion whose identity is not mapped',
    token: () => assertion({ ...userClaims(), email: 'mallory@example.com', sub: 'ffffffff-0000' }),
    status: 403,
    reason: /identity "mallory@example.com" is not in ACCESS_SUBJECTS/,
    detail: 'This Cloudflare Access identity has no access policy.',
  },
  {
    name: 'a service token not mapped',
    token: () => assertion({ ...serviceClaims(), common_name: 'zzz.access' }),
    status: 403,
    reason: /identity "zzz.access" is not in ACCESS_SUBJECTS/,
    detail: 'This Cloudflare Access identity has no access policy.',
  },
];

describe('Cloudflare Access refuses', () => {
  it.each(refusals)('$name', async (tc) => {
    const { h } = accessHarness();
    const token = await tc.token();
    const res = await h.request({ [ACCESS_ASSERTION_HEADER]: token });
    expect(res.status).toBe(tc.status);
    // Not a Bearer credential that failed: a bare challenge, no invalid_token.
    expect(res.headers.get('www-authenticate')).toBe(tc.status === 401 ? BARE : null);
    const text = await res.text();
    const problem = JSON.parse(text) as Record<string, unknown>;
    const code = tc.status === 401 ? 'unauthorized' : 'forbidden';
    expect(problem).toMatchObject({ type: PROBLEM_TYPE_PREFIX + code, code, detail: tc.detail });
    expect(h.seen).toEqual([]);
    expect(h.logs).toHaveLength(1);
    expect(h.logs[0]).toMatchObject({ event: 'caller.auth_failed', source: 'access', code });
    expect(String(h.logs[0]?.['reason'])).toMatch(tc.reason);
    for (const part of token.split('.').filter((p) => p.length >= 16)) {
      expect(JSON.stringify(h.logs)).not.toContain(part);
      expect(text).not.toContain(part);
    }
  });

  it('answers 403 when a mapped sub has no policy entry (config checked again at run time)', async () => {
    const config = { ...ACCESS, subjects: { 'alice@example.com': 'svc-missing' } };
    const { h } = accessHarness(certsServer(), config);
    const res = await h.request({ [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()) });
    expect(res.status).toBe(403);
    expect(String(h.logs[0]?.['reason'])).toMatch(/maps "alice@example.com" to "svc-missing"/);
  });

  it('fails closed with 503 when the certs cannot be fetched', async () => {
    const { h, server } = accessHarness(
      certsServer(() => Promise.reject(new TypeError('connection refused'))),
    );
    const res = await h.request({ [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await problemOf(res)).code).toBe('caller-keys-unavailable');
    expect(h.seen).toEqual([]);
    expect(server.calls).toEqual([CERTS]);
  });
});

describe('identity precedence', () => {
  it('prefers a valid Bearer JWT over an Access assertion', async () => {
    const { h, server } = accessHarness();
    const res = await h.request({
      authorization: `Bearer ${await mintCallerJwt(callerKeys, {}, {}, { now: T0 })}`,
      [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()),
    });
    expect(res.status).toBe(200);
    expect(h.seen[0]).toMatchObject({ source: 'jwt', sub: TEST_CALLER_SUB });
    // The assertion was not even looked at.
    expect(server.calls).toEqual([]);
  });

  it('answers 401 for an invalid Bearer JWT even with a valid Access assertion', async () => {
    const { h } = accessHarness();
    const expired = await mintCallerJwt(callerKeys, { exp: T0_S - 3600 }, {}, { now: T0 });
    const res = await h.request({
      authorization: `Bearer ${expired}`,
      [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge('token expired'));
    expect(h.seen).toEqual([]);
    expect(h.logs[0]).toMatchObject({ source: 'jwt' });
  });

  it('answers 401 for a non-Bearer Authorization header even with a valid Access assertion', async () => {
    const { h } = accessHarness();
    const res = await h.request({
      authorization: 'Basic dXNlcjpwYXNz',
      [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()),
    });
    expect(res.status).toBe(401);
    expect(h.seen).toEqual([]);
  });

  it('uses Access when the Bearer header is blank', async () => {
    const { h } = accessHarness();
    const res = await h.request({
      authorization: '   ',
      [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()),
    });
    expect(res.status).toBe(200);
    expect(h.seen[0]?.source).toBe('access');
  });

  it('on forward-auth routes, Authorization (the end user token) does not hide Access', async () => {
    const { h } = accessHarness(certsServer(), ACCESS, { header: 'x-gateway-authorization' });
    const res = await h.request({
      authorization: 'Bearer gho_endusertoken',
      [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()),
    });
    expect(res.status).toBe(200);
    expect(h.seen[0]).toMatchObject({ source: 'access', sub: 'svc-portal' });
  });

  it('ignores the Access header entirely when Access is not configured', async () => {
    const h = createHarness({ keys: callerKeys, policy: POLICY });
    const res = await h.request({ [ACCESS_ASSERTION_HEADER]: await assertion(userClaims()) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(BARE);
    expect(h.logs[0]).toMatchObject({ source: 'none', code: 'unauthorized' });
  });
});
