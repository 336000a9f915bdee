/**
 * The shared caller-authentication suite: ONE table of every protected route × every way a
 * caller credential can be wrong. Each failure must be a 401 RFC 9457 problem with an RFC 6750
 * `WWW-Authenticate: Bearer …` challenge, must not reach GHES, and must not echo or log the
 * presented credential. Then the caller policy: a valid caller outside its policy gets 403, again
 * without a GHES call.
 *
 * A new protected route is added to ROUTES below; every attack then runs against it.
 */
import { describe, expect, it } from 'vitest';
import {
  createTestCallerKeys,
  embeddedJwkCallerJwt,
  hs256WithPublicKey,
  mintCallerJwt,
  unsecuredCallerJwt,
  withPayload,
} from '../helpers/caller';
import {
  createTestGateway,
  TEST_REDIRECT_URI,
  type TestGateway,
  seedTokens,
} from '../helpers/gateway';
import { codeGrant, issueCode, refreshGrant } from './oauth-token.harness';

type CallerCredential = string | undefined;

interface ProtectedRoute {
  name: string;
  /** Sends a request that would succeed with a valid caller credential. */
  send(gw: TestGateway, credential: CallerCredential, app?: string): Promise<Response>;
  /** Status of that request when the credential is valid (the control row). */
  okStatus: number;
}

function jsonRoute(
  op: string,
  okStatus: number,
  body: (gw: TestGateway) => Record<string, unknown>,
  defaultApp = 'demo-oauth',
): ProtectedRoute {
  return {
    name: `POST /v1/apps/{app}/${op}`,
    okStatus,
    send: (gw, credential, app = defaultApp) =>
      gw.request(`/v1/apps/${app}/${op}`, {
        method: 'POST',
        headers: {
          ...(credential !== undefined && { authorization: credential }),
          'content-type': 'application/json',
        },
        body: JSON.stringify(body(gw)),
      }),
  };
}

const ROUTES: ProtectedRoute[] = [
  jsonRoute('token/check', 200, (gw) => ({ access_token: seedTokens(gw).octocatOauth })),
  jsonRoute('token/reset', 200, (gw) => ({ access_token: seedTokens(gw).octocatOauth })),
  jsonRoute(
    'token/scoped',
    200,
    (gw) => ({ access_token: seedTokens(gw).octocatGithubApp, target: 'octocat' }),
    'demo-github-app',
  ),
  jsonRoute('token/delete', 204, (gw) => ({ access_token: seedTokens(gw).octocatOauth })),
  jsonRoute('grant/delete', 204, (gw) => ({ access_token: seedTokens(gw).octocatOauth })),
  {
    name: 'POST /introspect (form body)',
    okStatus: 200,
    send: (gw, credential, app = 'demo-oauth') =>
      gw.request('/introspect', {
        method: 'POST',
        headers: {
          ...(credential !== undefined && { authorization: credential }),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: seedTokens(gw).octocatOauth, app }).toString(),
      }),
  },
  {
    name: 'GET /forward-auth (caller JWT in X-Gateway-Authorization)',
    okStatus: 200,
    send: (gw, credential, app = 'demo-oauth') =>
      gw.request(`/forward-auth?app=${app}`, {
        headers: {
          // The end user's GitHub token; only X-Gateway-Authorization authenticates the caller.
          authorization: `Bearer ${seedTokens(gw).octocatOauth}`,
          ...(credential !== undefined && { 'x-gateway-authorization': credential }),
        },
      }),
  },
  {
    name: 'POST /v1/apps/{app}/oauth/token (code exchange)',
    okStatus: 200,
    send: async (gw, credential, app = 'demo-oauth') =>
      oauthToken(gw, credential, app, codeGrant(await issueCode(gw, app))),
  },
  {
    name: 'POST /v1/apps/{app}/oauth/token (refresh)',
    okStatus: 200,
    send: async (gw, credential, app = 'demo-github-app') =>
      oauthToken(gw, credential, app, refreshGrant(await refreshTokenAtGhes(gw))),
  },
  // The Authorizations API (src/routes/authorizations.ts): last, so the indices above stay.
  ...(
    [
      ['PUT', 'authorizations', 201, { fingerprint: 'suite' }],
      ['POST', 'authorizations', 201, { fingerprint: 'suite' }],
      ['GET', 'authorizations', 200, undefined],
      ['GET', 'authorizations/{id}', 200, undefined],
      ['PATCH', 'authorizations/{id}', 200, { note: 'suite' }],
      ['DELETE', 'authorizations/{id}', 204, undefined],
      ['GET', 'grants', 200, undefined],
      ['DELETE', 'grants/{id}', 204, undefined],
    ] as const
  ).map(([method, path, okStatus, body]): ProtectedRoute =>
    userRoute(method, path, okStatus, body),
  ),
];

function oauthToken(gw: TestGateway, credential: CallerCredential, app: string, body: unknown) {
  return gw.request(`/v1/apps/${app}/oauth/token`, {
    method: 'POST',
    headers: {
      ...(credential !== undefined && { authorization: credential }),
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
}

/** A live refresh token, got from GHES directly; the calls it took are not the route's. */
async function refreshTokenAtGhes(gw: TestGateway): Promise<string> {
  const app = gw.apps.find((a) => a.name === 'demo-github-app');
  if (app === undefined) throw new Error('the demo seed has a GitHub App');
  const res = await gw.emulator.fetch('https://ghes.test/login/oauth/access_token', {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: app.client_id,
      client_secret: app.client_secret,
      code: await issueCode(gw, 'demo-github-app'),
      redirect_uri: TEST_REDIRECT_URI,
    }).toString(),
  });
  const { refresh_token: refreshToken } = (await res.json()) as { refresh_token?: string };
  if (refreshToken === undefined) throw new Error('GHES issued no refresh token');
  gw.emulator.resetCalls();
  return refreshToken;
}

/** The id of octocat's seeded demo-oauth authorization or grant, asked of the emulator directly. */
async function seededId(gw: TestGateway, path: string): Promise<string> {
  const kind = path.startsWith('grants') ? 'applications/grants' : 'authorizations';
  const app = gw.apps.find((a) => a.name === 'demo-oauth')?.client_id ?? '';
  const res = await gw.emulator.fetch(`https://ghes.test/api/v3/${kind}?client_id=${app}`, {
    headers: { authorization: `Basic ${btoa(`octocat:${gw.emulator.seed?.passwords.octocat}`)}` },
  });
  const items = (await res.json()) as { id: number }[];
  // This lookup is the test's, not the gateway's: it must not count as a GHES call.
  await gw.emulator.fetch('https://ghes.test/_emulator/calls', { method: 'DELETE' });
  return String(items[0]?.id);
}

function userRoute(
  method: string,
  path: string,
  okStatus: number,
  body: Record<string, unknown> | undefined,
): ProtectedRoute {
  return {
    name: `${method} /v1/apps/{app}/${path}`,
    okStatus,
    send: async (gw, credential, app = 'demo-oauth') => {
      const concrete = path.includes('{id}')
        ? path.replace('{id}', await seededId(gw, path))
        : path;
      return gw.request(`/v1/apps/${app}/${concrete}`, {
        method,
        headers: {
          ...(credential !== undefined && { authorization: credential }),
          'x-ghes-user-authorization': `Basic ${btoa(`octocat:${gw.emulator.seed?.passwords.octocat}`)}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    },
  };
}

interface Attack {
  name: string;
  credential(gw: TestGateway): Promise<CallerCredential>;
}

const nowOf = (gw: TestGateway) => ({ now: gw.clock.now() });
const nowS = (gw: TestGateway) => Math.floor(gw.clock.now() / 1000);
const bearer = (make: (gw: TestGateway) => Promise<string> | string) => async (gw: TestGateway) =>
  `Bearer ${await make(gw)}`;

const ATTACKS: Attack[] = [
  { name: 'no credential', credential: async () => undefined },
  { name: 'an empty header', credential: async () => '' },
  {
    name: 'a non-Bearer scheme (Basic)',
    credential: async () => `Basic ${btoa('svc-demo:password')}`,
  },
  {
    name: 'a non-Bearer scheme carrying a valid JWT',
    credential: async (gw) => `Token ${await gw.caller()}`,
  },
  { name: '"Bearer" without a token', credential: async () => 'Bearer' },
  { name: 'garbage', credential: bearer(() => 'not-a-jwt') },
  { name: 'three garbage segments', credential: bearer(() => 'aaaa.bbbb.cccc') },
  {
    name: 'two valid JWTs',
    credential: async (gw) => `Bearer ${await gw.caller()} ${await gw.caller()}`,
  },
  { name: 'alg: none', credential: bearer((gw) => unsecuredCallerJwt({}, nowOf(gw))) },
  {
    name: 'HS256 signed with the public key',
    credential: bearer((gw) => hs256WithPublicKey(gw.keys, {}, nowOf(gw))),
  },
  {
    name: 'a wrong iss',
    credential: bearer((gw) => mintCallerJwt(gw.keys, { iss: 'https://evil.test' }, {}, nowOf(gw))),
  },
  {
    name: 'a wrong aud',
    credential: bearer((gw) => mintCallerJwt(gw.keys, { aud: 'another-service' }, {}, nowOf(gw))),
  },
  {
    name: 'expired (beyond the clock tolerance)',
    credential: bearer((gw) =>
      mintCallerJwt(gw.keys, { iat: nowS(gw) - 7200, exp: nowS(gw) - 3600 }, {}, nowOf(gw)),
    ),
  },
  {
    name: 'a future nbf',
    credential: bearer((gw) => mintCallerJwt(gw.keys, { nbf: nowS(gw) + 3600 }, {}, nowOf(gw))),
  },
  {
    name: 'an unknown kid',
    credential: bearer((gw) => mintCallerJwt(gw.keys, {}, { kid: 'unknown-key' }, nowOf(gw))),
  },
  {
    name: 'a crit header',
    credential: bearer((gw) =>
      mintCallerJwt(gw.keys, {}, { crit: ['x-ext'], 'x-ext': true }, nowOf(gw)),
    ),
  },
  {
    name: 'an embedded attacker jwk under our kid',
    credential: bearer((gw) => embeddedJwkCallerJwt(gw.keys, {}, nowOf(gw))),
  },
  {
    name: "another key's signature under our kid",
    credential: bearer(async (gw) =>
      mintCallerJwt(await createTestCallerKeys(gw.keys.kid), {}, {}, nowOf(gw)),
    ),
  },
  {
    name: 'a tampered payload (sub swapped)',
    credential: bearer(async (gw) => {
      const token = await mintCallerJwt(gw.keys, { sub: 'svc-readonly' }, {}, nowOf(gw));
      const payload = JSON.parse(
        atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/')),
      ) as Record<string, unknown>;
      return withPayload(token, { ...payload, sub: 'svc-demo' });
    }),
  },
  {
    name: 'no exp',
    credential: bearer((gw) => mintCallerJwt(gw.keys, { exp: undefined }, {}, nowOf(gw))),
  },
  {
    name: 'no sub',
    credential: bearer((gw) => mintCallerJwt(gw.keys, { sub: undefined }, {}, nowOf(gw))),
  },
  {
    name: 'no iss',
    credential: bearer((gw) => mintCallerJwt(gw.keys, { iss: undefined }, {}, nowOf(gw))),
  },
  {
    name: 'typ dpop+jwt',
    credential: bearer((gw) => mintCallerJwt(gw.keys, {}, { typ: 'dpop+jwt' }, nowOf(gw))),
  },
  { name: 'a credential over 8 KiB', credential: bearer(() => `${'a'.repeat(9000)}.b.c`) },
];

function totalCalls(gw: TestGateway): number {
  return Object.values(gw.emulator.calls()).reduce((a, b) => a + b, 0);
}

describe.each(ROUTES)('$name', (route) => {
  it('answers with a valid caller credential (control)', async () => {
    const gw = await createTestGateway();
    const res = await route.send(gw, `Bearer ${await gw.caller()}`);
    expect(res.status, await res.clone().text()).toBe(route.okStatus);
  });

  it.each(ATTACKS)(
    '$name → 401 with a Bearer challenge, no GHES call, nothing echoed',
    async (attack) => {
      const gw = await createTestGateway();
      const credential = await attack.credential(gw);
      const res = await route.send(gw, credential);
      const text = await res.text();
      expect(res.status, text).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="ghes-token-gateway"/);
      const problem = JSON.parse(text) as { code: string; status: number; type: string };
      expect(problem.code).toBe('unauthorized');
      expect(problem.status).toBe(401);
      expect(problem.type).toBe('urn:ghes-token-gateway:problem:unauthorized');
      expect(totalCalls(gw)).toBe(0);
      expect(gw.outbound).toEqual([]);

      // The presented credential (its token part, when long enough to be recognisable) is not
      // echoed in the answer nor written to any log line.
      const token = credential?.replace(/^\S+\s*/, '') ?? '';
      if (token.length >= 16) {
        expect(text).not.toContain(token);
        expect(JSON.stringify([...res.headers])).not.toContain(token);
        for (const r of gw.logs) expect(JSON.stringify(r)).not.toContain(token);
      }
      // The end user's GitHub token (forward auth) is not in the logs either.
      for (const r of gw.logs) expect(JSON.stringify(r)).not.toContain(seedTokens(gw).octocatOauth);
    },
  );
});

describe('caller policy', () => {
  /** svc-readonly may check, introspect and forward-auth on demo-oauth only. */
  const readonlyDenied: [string, ProtectedRoute, string | undefined][] = [
    ['reset', ROUTES[1] as ProtectedRoute, undefined],
    ['scoped', ROUTES[2] as ProtectedRoute, undefined],
    ['scoped on its own app', ROUTES[2] as ProtectedRoute, 'demo-oauth'],
    ['delete', ROUTES[3] as ProtectedRoute, undefined],
    ['grant delete', ROUTES[4] as ProtectedRoute, undefined],
    ['check on an app outside its policy', ROUTES[0] as ProtectedRoute, 'demo-github-app'],
    ['check on an app that does not exist', ROUTES[0] as ProtectedRoute, 'no-such-app'],
    ['introspect on an app outside its policy', ROUTES[5] as ProtectedRoute, 'demo-github-app'],
    ['forward auth on an app outside its policy', ROUTES[6] as ProtectedRoute, 'demo-github-app'],
    ['code exchange', ROUTES[7] as ProtectedRoute, undefined],
    ['refresh', ROUTES[8] as ProtectedRoute, undefined],
  ];

  it.each(readonlyDenied)(
    'svc-readonly: %s → 403 forbidden, no GHES call',
    async (_name, route, app) => {
      const gw = await createTestGateway();
      const res = await route.send(gw, `Bearer ${await gw.caller('svc-readonly')}`, app);
      const text = await res.text();
      expect(res.status, text).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect((JSON.parse(text) as { code: string }).code).toBe('forbidden');
      expect(totalCalls(gw)).toBe(0);
    },
  );

  it.each([
    ['check', ROUTES[0] as ProtectedRoute],
    ['introspect', ROUTES[5] as ProtectedRoute],
    ['forward auth', ROUTES[6] as ProtectedRoute],
  ])('svc-readonly may %s on demo-oauth (control)', async (_name, route) => {
    const gw = await createTestGateway();
    const res = await route.send(gw, `Bearer ${await gw.caller('svc-readonly')}`);
    expect(res.status).toBe(200);
  });

  it.each(ROUTES.map((r) => [r.name, r] as const))(
    '%s: a validly signed caller without a policy entry → 403, no GHES call',
    async (_name, route) => {
      const gw = await createTestGateway();
      for (const sub of [
        'svc-unknown',
        '__proto__',
        'constructor',
        'toString',
        'SVC-DEMO',
        'svc-demo ',
      ]) {
        const res = await route.send(gw, `Bearer ${await gw.caller(sub)}`);
        const text = await res.text();
        expect(res.status, `${sub}: ${text}`).toBe(403);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect((JSON.parse(text) as { code: string }).code).toBe('forbidden');
      }
      expect(totalCalls(gw)).toBe(0);
    },
  );

  it('a caller whose policy lacks an operation is refused it even on a permitted app', async () => {
    const gw = await createTestGateway({
      policy: {
        'svc-demo': {
          apps: ['*'],
          operations: ['check', 'reset', 'scoped', 'delete', 'grant_delete'],
        },
      },
    });
    for (const route of [ROUTES[5] as ProtectedRoute, ROUTES[6] as ProtectedRoute]) {
      const res = await route.send(gw, `Bearer ${await gw.caller()}`);
      expect(res.status, route.name).toBe(403);
    }
    expect(totalCalls(gw)).toBe(0);
  });
});
