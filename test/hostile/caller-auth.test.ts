/**
 * Caller-authentication attacks through the whole gateway, on every protected route: `alg: none`,
 * HS256 keyed with the public key, wrong or missing `kid`, an embedded attacker key, wrong
 * `iss`/`aud`, expired, future `nbf`, a `crit` header, a foreign `typ`, tampered or truncated
 * tokens, and a duplicate `kid` in the key set (inline: refused at start-up; remote: every token
 * refused). Each is 401 (403 for an authenticated caller without a policy), the token is never
 * echoed or logged, and GHES is never called. The unit-level cases live in
 * test/auth/caller-auth.security.test.ts; this suite proves every route is behind them.
 */
import { describe, expect, it } from 'vitest';
import type { Bindings } from '../../src/config/types';
import { buildGateway } from '../../src/index';
import {
  createTestCallerKeys,
  embeddedJwkCallerJwt,
  hs256WithPublicKey,
  mintCallerJwt,
  unsecuredCallerJwt,
  withPayload,
  type TestCallerKeys,
} from '../helpers/caller';
import { CALLER_AUD, CALLER_ISS, createTestGateway, type TestGateway } from '../helpers/gateway';
import {
  GH_APP,
  OAUTH,
  runHostileCase,
  totalCalls,
  unknownToken,
  type Expectation,
} from './harness';
import { record } from './record';
import { executionContext } from '../helpers/execution-context';

const T = unknownToken(21);

interface Route {
  name: string;
  /** Builds the request for a caller credential (the raw header value after "Bearer "). */
  request: (credential: string) => { path: string; init: RequestInit };
}

const jsonRoute = (op: string, app = OAUTH, extra: Record<string, unknown> = {}): Route => ({
  name: `POST /v1/apps/${app}/${op}`,
  request: (credential) => ({
    path: `/v1/apps/${app}/${op}`,
    init: {
      method: 'POST',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: T, ...extra }),
    },
  }),
});

const ROUTES: Route[] = [
  jsonRoute('token/check'),
  jsonRoute('token/reset'),
  jsonRoute('token/scoped', GH_APP, { target: 'octocat' }),
  jsonRoute('token/delete'),
  jsonRoute('grant/delete'),
  {
    name: 'POST /introspect',
    request: (credential) => ({
      path: '/introspect',
      init: {
        method: 'POST',
        headers: {
          authorization: `Bearer ${credential}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `token=${T}`,
      },
    }),
  },
  {
    name: 'GET /forward-auth',
    request: (credential) => ({
      path: '/forward-auth/api',
      init: {
        method: 'GET',
        headers: {
          'x-gateway-authorization': `Bearer ${credential}`,
          authorization: `Bearer ${T}`,
        },
      },
    }),
  },
];

const DENIED: Expectation = { status: 401, code: 'unauthorized' };
const FORBIDDEN: Expectation = { status: 403, code: 'forbidden' };

interface Attack {
  name: string;
  mint: (gw: TestGateway, extraKeys: TestCallerKeys) => Promise<string>;
  expect: Expectation;
  vars?: Record<string, unknown>;
}

const nowS = (gw: TestGateway) => Math.floor(gw.clock.now() / 1000);
/** The claims of a valid caller token; each attack changes one thing. */
const GOOD = { sub: 'svc-demo', iss: CALLER_ISS, aud: CALLER_AUD };
const mint = (
  gw: TestGateway,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
) => mintCallerJwt(gw.keys, { ...GOOD, ...claims }, header, gw.clock.now());

const ATTACKS: Attack[] = [
  {
    name: 'alg none',
    mint: async (gw) => unsecuredCallerJwt(GOOD, { now: gw.clock.now() }),
    expect: DENIED,
  },
  {
    name: 'HS256 keyed with the public key',
    mint: (gw) => hs256WithPublicKey(gw.keys, GOOD, { now: gw.clock.now() }),
    expect: DENIED,
  },
  { name: 'unknown kid', mint: (gw) => mint(gw, {}, { kid: 'not-our-key' }), expect: DENIED },
  {
    name: 'no kid, signed by another key',
    mint: (gw, other) => mintCallerJwt(other, GOOD, { kid: undefined }, gw.clock.now()),
    expect: DENIED,
  },
  {
    name: 'our kid, signed by another key',
    mint: (gw, other) => mintCallerJwt(other, GOOD, { kid: gw.keys.kid }, gw.clock.now()),
    expect: DENIED,
  },
  {
    name: 'embedded attacker jwk under our kid',
    mint: (gw) => embeddedJwkCallerJwt(gw.keys, GOOD, { now: gw.clock.now() }),
    expect: DENIED,
  },
  {
    name: 'jku pointing at an attacker key set',
    mint: (gw, other) =>
      mintCallerJwt(
        other,
        GOOD,
        { kid: gw.keys.kid, jku: 'https://evil.test/jwks.json' },
        gw.clock.now(),
      ),
    expect: DENIED,
  },
  { name: 'wrong iss', mint: (gw) => mint(gw, { iss: 'https://evil.test' }), expect: DENIED },
  { name: 'wrong aud', mint: (gw) => mint(gw, { aud: 'github' }), expect: DENIED },
  { name: 'aud list without ours', mint: (gw) => mint(gw, { aud: ['a', 'b'] }), expect: DENIED },
  {
    name: 'expired beyond the 30 s tolerance',
    mint: (gw) => mint(gw, { iat: nowS(gw) - 600, exp: nowS(gw) - 31 }),
    expect: DENIED,
  },
  {
    name: 'nbf 60 s in the future',
    mint: (gw) => mint(gw, { nbf: nowS(gw) + 60 }),
    expect: DENIED,
  },
  {
    name: 'iat 60 s in the future',
    mint: (gw) => mint(gw, { iat: nowS(gw) + 60 }),
    expect: DENIED,
  },
  { name: 'no exp', mint: (gw) => mint(gw, { exp: undefined }), expect: DENIED },
  {
    name: 'crit header',
    mint: (gw) =>
      mint(gw, {}, { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true }),
    expect: DENIED,
  },
  { name: 'typ dpop+jwt', mint: (gw) => mint(gw, {}, { typ: 'dpop+jwt' }), expect: DENIED },
  {
    name: 'payload swapped under a valid signature',
    mint: async (gw) =>
      withPayload(await mint(gw, { sub: 'svc-readonly' }), { ...GOOD, exp: nowS(gw) + 300 }),
    expect: DENIED,
  },
  {
    name: 'signature truncated',
    mint: async (gw) => (await mint(gw, {})).slice(0, -10),
    expect: DENIED,
  },
  {
    name: 'over 8 KiB',
    mint: (gw) => mint(gw, { pad: 'x'.repeat(9000) }),
    expect: DENIED,
  },
  {
    name: 'iat older than CALLER_MAX_TOKEN_AGE_S',
    mint: (gw) => mint(gw, { iat: nowS(gw) - 3600 }),
    vars: { CALLER_MAX_TOKEN_AGE_S: '600' },
    expect: DENIED,
  },
  {
    name: 'sub without a policy',
    mint: (gw) => mint(gw, { sub: 'svc-unknown' }),
    expect: FORBIDDEN,
  },
  { name: 'sub __proto__', mint: (gw) => mint(gw, { sub: '__proto__' }), expect: FORBIDDEN },
  { name: 'a GitHub token instead of a JWT', mint: async () => T, expect: DENIED },
];

describe('caller-auth attacks on every protected route', () => {
  it('every attack on every route is refused before any GHES call', async ({ task }) => {
    record(task, {
      area: 'caller-auth',
      kind: `forged, expired or confused caller JWTs (${ATTACKS.length} kinds × ${ROUTES.length} routes)`,
      cases: ATTACKS.length * ROUTES.length,
      expected: '401 unauthorized (403 for a sub without policy), token never echoed, no GHES call',
    });
    const other = await createTestCallerKeys('attacker-key');
    const failures: string[] = [];
    for (const attack of ATTACKS) {
      for (const route of ROUTES) {
        try {
          let credential = '';
          const answer = await runHostileCase({
            name: `${route.name}: ${attack.name}`,
            gateway: attack.vars === undefined ? {} : { vars: attack.vars },
            build: async (gw) => {
              credential = await attack.mint(gw, other);
              return route.request(credential);
            },
            expect: attack.expect,
            mustNotEcho: [T],
          });
          if (attack.expect === DENIED) {
            const challenge = answer.headers.get('www-authenticate') ?? '';
            expect(challenge, `${route.name}: ${attack.name}: challenge`).toMatch(/^Bearer /);
          }
          // No part of the caller credential comes back either.
          for (const part of credential.split('.').filter((p) => p.length >= 16)) {
            expect(answer.text.includes(part), `${route.name}: ${attack.name}: echoed`).toBe(false);
          }
        } catch (e) {
          failures.push(e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e));
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('a duplicate kid in the inline key set: the gateway refuses to start', async ({ task }) => {
    record(task, {
      area: 'caller-auth',
      kind: 'duplicate kid in the inline CALLER_JWKS',
      cases: 1,
      expected: 'configuration refused (every request 500 misconfigured), never a guess',
    });
    const base = await createTestGateway();
    const twin = await createTestCallerKeys(base.keys.kid);
    const built = buildGateway(
      {
        ...base.vars,
        CALLER_JWKS: JSON.stringify({ keys: [base.keys.publicJwk, twin.publicJwk] }),
      } as unknown as Bindings,
      { fetch: base.emulator.fetch, clock: base.clock, log: () => undefined },
    );
    expect(built.ok).toBe(false);
    expect(built.ok ? [] : built.error.join('\n')).toMatch(/repeats kid/);
  });

  it('a duplicate kid in a remote key set: tokens under that kid are refused, whoever signed them', async ({
    task,
  }) => {
    record(task, {
      area: 'caller-auth',
      kind: 'duplicate kid in the remote JWKS (CALLER_JWKS_URL); JWKS host down',
      cases: ROUTES.length * 2 + 1,
      expected: '401 for both signers; 503 caller-keys-unavailable when the JWKS is unreachable',
    });
    const base = await createTestGateway();
    const twin = await createTestCallerKeys(base.keys.kid);
    let jwksDown = false;
    let jwksFetches = 0;
    const JWKS_URL = 'https://keys.test/jwks.json';
    const outbound: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.href === JWKS_URL) {
        jwksFetches++;
        if (jwksDown) throw new TypeError('connection refused');
        return Response.json({ keys: [base.keys.publicJwk, twin.publicJwk] });
      }
      return base.emulator.fetch(input, init);
    };
    const vars = { ...base.vars, CALLER_JWKS: '', CALLER_JWKS_URL: JWKS_URL };
    const build = () => {
      const built = buildGateway(vars as unknown as Bindings, {
        fetch: outbound,
        clock: base.clock,
        log: () => undefined,
      });
      if (!built.ok) throw new Error(built.error.join('; '));
      return built;
    };
    const ctx = executionContext();
    const gateway = build();
    const send = (g: typeof gateway, req: { path: string; init: RequestInit }) =>
      g.value(new Request(`https://gateway.test${req.path}`, req.init), vars as never, ctx);
    for (const route of ROUTES) {
      for (const signer of [base.keys, twin]) {
        const jwt = await mintCallerJwt(
          signer,
          { sub: 'svc-demo', iss: CALLER_ISS, aud: CALLER_AUD },
          {},
          base.clock.now(),
        );
        const res = await send(gateway, route.request(jwt));
        expect(res.status, route.name).toBe(401);
        expect(((await res.json()) as { code: string }).code).toBe('unauthorized');
      }
    }
    expect(jwksFetches).toBeGreaterThanOrEqual(1);
    jwksDown = true;
    const fresh = build();
    const jwt = await mintCallerJwt(
      base.keys,
      { sub: 'svc-demo', iss: CALLER_ISS, aud: CALLER_AUD },
      {},
      base.clock.now(),
    );
    const down = await send(fresh, ROUTES[0]!.request(jwt));
    expect(down.status).toBe(503);
    expect(((await down.json()) as { code: string }).code).toBe('caller-keys-unavailable');
    expect(totalCalls(base)).toBe(0);
  });
});
