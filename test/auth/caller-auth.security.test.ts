/**
 * Every way a credential can be wrong: the answer, the challenge (RFC 6750 §3), the logged reason,
 * that the handler never ran, and that the token never reaches a log record or the response.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_CALLER_TOKEN_LENGTH } from '../../src/auth/caller-jwt';
import { PROBLEM_TYPE_PREFIX } from '../../src/lib/errors';
import {
  createTestCallerKeys,
  defaultCallerClaims,
  embeddedJwkCallerJwt,
  es256Signer,
  hs256WithPublicKey,
  mintCallerJwt,
  signCompact,
  unsecuredCallerJwt,
  withPayload,
  type TestCallerKeys,
} from '../helpers/caller';
import {
  T0,
  TEST_POLICY,
  challenge,
  createHarness,
  problemOf,
  type HarnessOptions,
} from './harness';

let keys: TestCallerKeys;
let otherKeys: TestCallerKeys;
beforeAll(async () => {
  keys = await createTestCallerKeys('caller-key-a');
  otherKeys = await createTestCallerKeys('caller-key-b');
});

const BARE = 'Bearer realm="ghes-token-gateway"';
const now = { now: T0 };
const mint = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  mintCallerJwt(keys, claims, header, now);

interface Case {
  name: string;
  /** The raw header value, or a token sent as `Bearer <token>`. */
  credential: () => Promise<{ header?: string; token?: string }>;
  harness?: () => HarnessOptions;
  status: number;
  wwwAuthenticate: string | null;
  reason: RegExp;
}

const token = (make: () => Promise<string> | string) => async () => ({ token: await make() });
const header = (value: string | undefined) => async () =>
  value === undefined ? {} : { header: value };

const cases: Case[] = [
  {
    name: 'no Authorization header',
    credential: header(undefined),
    status: 401,
    wwwAuthenticate: BARE,
    reason: /no authorization header/,
  },
  {
    name: 'an empty Authorization header',
    credential: header(''),
    status: 401,
    wwwAuthenticate: BARE,
    reason: /no authorization header/,
  },
  {
    name: 'a Basic scheme',
    credential: header('Basic ZGVtbzpkZW1v'),
    status: 401,
    wwwAuthenticate: BARE,
    reason: /does not use the Bearer scheme/,
  },
  {
    name: 'a token scheme (GitHub style)',
    credential: header('token ghp_abc'),
    status: 401,
    wwwAuthenticate: BARE,
    reason: /does not use the Bearer scheme/,
  },
  {
    name: 'Bearer with no token',
    credential: header('Bearer'),
    status: 401,
    wwwAuthenticate: challenge('malformed bearer credentials'),
    reason: /is not "Bearer <token>"/,
  },
  {
    name: 'Bearer with a blank token',
    credential: header('Bearer    '),
    status: 401,
    wwwAuthenticate: challenge('malformed bearer credentials'),
    reason: /is not "Bearer <token>"/,
  },
  {
    name: 'two tokens',
    credential: header('Bearer a.b.c d.e.f'),
    status: 401,
    wwwAuthenticate: challenge('malformed bearer credentials'),
    reason: /is not "Bearer <token>"/,
  },
  {
    name: 'garbage',
    credential: token(() => 'not-a-jwt'),
    status: 401,
    wwwAuthenticate: challenge('malformed token'),
    reason: /ERR_JWS_INVALID/,
  },
  {
    name: 'a JWT with a non-JSON header',
    credential: token(() => 'bm90anNvbg.e30.c2ln'),
    status: 401,
    wwwAuthenticate: challenge('malformed token'),
    reason: /ERR_JWS_INVALID/,
  },
  {
    name: 'an over-long token',
    credential: token(() => `${'a'.repeat(MAX_CALLER_TOKEN_LENGTH)}.b.c`),
    status: 401,
    wwwAuthenticate: challenge('malformed token'),
    reason: /longer than 8192/,
  },
  {
    name: 'alg none',
    credential: token(() => unsecuredCallerJwt({}, now)),
    status: 401,
    wwwAuthenticate: challenge('algorithm not accepted'),
    reason: /ERR_JOSE_ALG_NOT_ALLOWED/,
  },
  {
    name: 'HS256 signed with the public key',
    credential: token(() => hs256WithPublicKey(keys, {}, now)),
    status: 401,
    wwwAuthenticate: challenge('algorithm not accepted'),
    reason: /ERR_JOSE_ALG_NOT_ALLOWED/,
  },
  {
    name: 'an allowed-elsewhere algorithm that is not pinned (RS256)',
    credential: token(() => mint({}, { alg: 'RS256' })),
    status: 401,
    wwwAuthenticate: challenge('algorithm not accepted'),
    reason: /ERR_JOSE_ALG_NOT_ALLOWED/,
  },
  {
    name: 'an unknown kid',
    credential: token(() => mint({}, { kid: 'nope' })),
    status: 401,
    wwwAuthenticate: challenge('no key matches the token'),
    reason: /ERR_JWKS_NO_MATCHING_KEY.*kid "nope"/,
  },
  {
    name: 'a key we do not trust under its own kid',
    credential: token(() => mintCallerJwt(otherKeys, {}, {}, now)),
    status: 401,
    wwwAuthenticate: challenge('no key matches the token'),
    reason: /ERR_JWKS_NO_MATCHING_KEY.*kid "caller-key-b"/,
  },
  {
    name: 'a foreign key under our kid',
    credential: token(async () =>
      mintCallerJwt(await createTestCallerKeys('caller-key-a'), {}, {}, now),
    ),
    status: 401,
    wwwAuthenticate: challenge('signature verification failed'),
    reason: /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
  },
  {
    name: 'an embedded attacker jwk',
    credential: token(() => embeddedJwkCallerJwt(keys, {}, now)),
    status: 401,
    wwwAuthenticate: challenge('signature verification failed'),
    reason: /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
  },
  {
    name: 'a tampered payload',
    credential: token(async () =>
      withPayload(await mint(), { ...defaultCallerClaims(now), sub: 'admin' }),
    ),
    status: 401,
    wwwAuthenticate: challenge('signature verification failed'),
    reason: /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
  },
  {
    name: 'no kid when several keys could match',
    credential: token(() => mint({}, { kid: undefined })),
    harness: () => ({ keys: [keys, otherKeys] }),
    status: 401,
    wwwAuthenticate: challenge('no unique key matches the token'),
    reason: /ambiguous: several keys in the caller JWKS match/,
  },
  {
    name: 'a wrong iss',
    credential: token(() => mint({ iss: 'https://evil.test' })),
    status: 401,
    wwwAuthenticate: challenge('issuer not accepted'),
    reason: /"iss" claim.*got "https:\/\/evil.test"/,
  },
  {
    name: 'a wrong aud',
    credential: token(() => mint({ aud: 'github' })),
    status: 401,
    wwwAuthenticate: challenge('audience not accepted'),
    reason: /"aud" claim.*got "github"/,
  },
  {
    name: 'an aud array without ours',
    credential: token(() => mint({ aud: ['a', 'b'] })),
    status: 401,
    wwwAuthenticate: challenge('audience not accepted'),
    reason: /"aud" claim/,
  },
  {
    name: 'an expired token (past the tolerance)',
    credential: token(() => mint({ exp: T0 / 1000 - 30 })),
    status: 401,
    wwwAuthenticate: challenge('token expired'),
    reason: /ERR_JWT_EXPIRED/,
  },
  {
    name: 'a future nbf',
    credential: token(() => mint({ nbf: T0 / 1000 + 31 })),
    status: 401,
    wwwAuthenticate: challenge('token not yet valid'),
    reason: /"nbf" claim/,
  },
  {
    name: 'an unknown crit extension',
    credential: token(() => mint({}, { crit: ['exp'], exp: 1 })),
    status: 401,
    wwwAuthenticate: challenge('critical header extensions not supported'),
    reason: /ERR_JOSE_NOT_SUPPORTED.*Extension Header Parameter "exp" is not recognized/,
  },
  {
    name: 'a crit header jose would accept (b64)',
    credential: token(() => mint({}, { crit: ['b64'], b64: true })),
    status: 401,
    wwwAuthenticate: challenge('critical header extensions not supported'),
    reason: /"crit" header/,
  },
  {
    name: 'b64 false (unencoded payload)',
    credential: token(() => mint({}, { crit: ['b64'], b64: false })),
    status: 401,
    wwwAuthenticate: challenge('malformed token'),
    reason: /ERR_JW[ST]_INVALID/,
  },
  {
    name: 'a typ of another token kind',
    credential: token(() => mint({}, { typ: 'dpop+jwt' })),
    status: 401,
    wwwAuthenticate: challenge('token type not accepted'),
    reason: /typ "dpop\+jwt"/,
  },
  {
    name: 'a non-string typ',
    credential: token(() => mint({}, { typ: 7 })),
    status: 401,
    wwwAuthenticate: challenge('token type not accepted'),
    reason: /typ/,
  },
  {
    name: 'no sub',
    credential: token(() => mint({ sub: undefined })),
    status: 401,
    wwwAuthenticate: challenge('required claim sub missing'),
    reason: /missing required "sub" claim/,
  },
  {
    name: 'a non-string sub',
    credential: token(() => mint({ sub: 42 })),
    status: 401,
    wwwAuthenticate: challenge('claim sub malformed'),
    reason: /"sub" is not a non-empty string/,
  },
  {
    name: 'no exp',
    credential: token(() => mint({ exp: undefined })),
    status: 401,
    wwwAuthenticate: challenge('required claim exp missing'),
    reason: /missing required "exp" claim/,
  },
  {
    name: 'a non-numeric exp',
    credential: token(() => mint({ exp: 'tomorrow' })),
    status: 401,
    wwwAuthenticate: challenge('claim exp malformed'),
    reason: /"exp" claim must be a number/,
  },
  {
    name: 'no iss',
    credential: token(() => mint({ iss: undefined })),
    status: 401,
    wwwAuthenticate: challenge('required claim iss missing'),
    reason: /missing required "iss" claim/,
  },
  {
    name: 'no aud',
    credential: token(() => mint({ aud: undefined })),
    status: 401,
    wwwAuthenticate: challenge('required claim aud missing'),
    reason: /missing required "aud" claim/,
  },
  {
    name: 'a token older than maxTokenAge',
    credential: token(() => mint({ iat: T0 / 1000 - 3601 })),
    harness: () => ({ keys, maxTokenAgeS: 3570 }),
    status: 401,
    wwwAuthenticate: challenge('token too old'),
    reason: /older than the maximum token age/,
  },
  {
    name: 'no iat when maxTokenAge is set',
    credential: token(() => mint({ iat: undefined })),
    harness: () => ({ keys, maxTokenAgeS: 3600 }),
    status: 401,
    wwwAuthenticate: challenge('required claim iat missing'),
    reason: /missing required "iat" claim/,
  },
  {
    name: 'an iat in the future when maxTokenAge is set',
    credential: token(() => mint({ iat: T0 / 1000 + 60 })),
    harness: () => ({ keys, maxTokenAgeS: 3600 }),
    status: 401,
    wwwAuthenticate: challenge('token issued in the future'),
    reason: /"iat" claim timestamp check failed \(it should be in the past\)/,
  },
  {
    name: 'an iat in the future (no maxTokenAge, the default)',
    credential: token(() => mint({ iat: T0 / 1000 + 31 })),
    status: 401,
    wwwAuthenticate: challenge('token issued in the future'),
    reason: /caller JWT "iat" is 31 s in the future \(clock tolerance 30 s\)/,
  },
  {
    name: 'an iat years in the future, exp further still',
    credential: token(() => mint({ iat: T0 / 1000 + 5 * 365 * 86_400, exp: 4_102_444_800 })),
    status: 401,
    wwwAuthenticate: challenge('token issued in the future'),
    reason: /caller JWT "iat" is \d+ s in the future/,
  },
  {
    name: 'a valid token for a sub with no policy',
    credential: token(() => mint({ sub: 'svc-unknown' })),
    status: 403,
    wwwAuthenticate: null,
    reason: /sub "svc-unknown" has no CALLER_POLICY entry/,
  },
  {
    name: 'a sub naming an Object.prototype member',
    credential: token(() => mint({ sub: 'constructor' })),
    status: 403,
    wwwAuthenticate: null,
    reason: /sub "constructor" has no CALLER_POLICY entry/,
  },
  {
    name: 'a sub of __proto__',
    credential: token(() => mint({ sub: '__proto__' })),
    status: 403,
    wwwAuthenticate: null,
    reason: /sub "__proto__" has no CALLER_POLICY entry/,
  },
];

describe('callerAuth refuses', () => {
  it.each(cases)('$name', async (tc) => {
    const h = createHarness(tc.harness?.() ?? { keys });
    const cred = await tc.credential();
    const headerValue = cred.token !== undefined ? `Bearer ${cred.token}` : cred.header;
    const res = await h.request(headerValue === undefined ? {} : { authorization: headerValue });

    expect(res.status).toBe(tc.status);
    expect(res.headers.get('www-authenticate')).toBe(tc.wwwAuthenticate);
    const text = await res.text();
    const problem = JSON.parse(text) as Record<string, unknown>;
    const code = tc.status === 401 ? 'unauthorized' : 'forbidden';
    expect(problem).toMatchObject({ type: PROBLEM_TYPE_PREFIX + code, code, status: tc.status });
    expect(typeof problem['detail']).toBe('string');
    expect(h.seen).toEqual([]);

    expect(h.logs).toHaveLength(1);
    expect(h.logs[0]).toMatchObject({ level: 'info', event: 'caller.auth_failed', code });
    expect(String(h.logs[0]?.['reason'])).toMatch(tc.reason);

    if (cred.token !== undefined && cred.token.length > 0) {
      // Neither the whole token nor its signature or payload part leak anywhere.
      const parts = cred.token.split('.').filter((p) => p.length >= 16);
      const leaks = [cred.token, ...parts];
      const surfaces = [JSON.stringify(h.logs), text, [...res.headers].join('\n')];
      for (const surface of surfaces) for (const leak of leaks) expect(surface).not.toContain(leak);
    }
  });

  it('caches no failures: a refused token is verified again each time', async () => {
    const h = createHarness({ keys });
    const bad = await mint({ aud: 'github' });
    await h.bearer(bad);
    await h.bearer(bad);
    expect(h.keyLookups.count).toBe(2);
  });

  it('does not let a cached credential vouch for a tampered copy', async () => {
    const h = createHarness({ keys });
    const good = await mint();
    expect((await h.bearer(good)).status).toBe(200);
    const tampered = withPayload(good, {
      ...defaultCallerClaims(now),
      sub: Object.keys(TEST_POLICY)[0],
      jti: 'x',
    });
    const res = await h.bearer(tampered);
    expect(res.status).toBe(401);
    expect(h.seen).toHaveLength(1);
  });

  it('logs nothing containing the token on success', async () => {
    const h = createHarness({ keys });
    const good = await signCompact(
      { alg: 'ES256', kid: keys.kid },
      defaultCallerClaims(now),
      es256Signer(keys.privateKey),
    );
    const res = await h.bearer(good);
    expect(res.status).toBe(200);
    expect(JSON.stringify(h.logs)).not.toContain(good.split('.')[2]);
  });

  it('answers the problem body with a caller-safe detail', async () => {
    const h = createHarness({ keys });
    const res = await h.bearer(await mint({ exp: T0 / 1000 - 3600 }));
    expect(await problemOf(res)).toEqual({
      type: PROBLEM_TYPE_PREFIX + 'unauthorized',
      code: 'unauthorized',
      title: 'Caller authentication required',
      status: 401,
      detail: 'Invalid caller token: token expired.',
    });
  });
});
