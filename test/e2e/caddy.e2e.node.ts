/**
 * End-to-end: a real Caddy running docs/recipes/Caddyfile (`forward_auth`) in front of a dummy
 * upstream, asking the running gateway's /forward-auth, which checks tokens against the GHES
 * emulator. The recipe is the one docs/gateways.md quotes; only its example addresses, caller JWT
 * and app are replaced (test/e2e/lib/caddy.node.ts).
 *
 *   npm run test:e2e                                   # installs Debian's caddy first when missing
 *   npx node --import tsx test/e2e/caddy.e2e.node.ts   # caddy already installed
 *
 * Besides what the nginx suite checks, this one holds the recipe to what docs/gateways.md
 * promises: the upstream never sees a Caddy 2.6 placeholder (`{http.reverse_proxy.header.…}`),
 * a client-sent X-Auth-* / X-Forward-Auth-* / X-Gateway-Authorization header, or the caller JWT,
 * and the client cannot pick the app. One line per check, `N passed, M failed` last; bounded.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caddyVersion, findCaddy, readCaddyRecipe, startCaddy } from './lib/caddy.node.js';
import {
  freeLoopbackPort,
  request,
  type Answer,
  type CheckRunner,
  type Cleanup,
} from './lib/harness.node.js';
import { startStack, type Stack } from './lib/stack.node.js';
import { runSuite, type SuiteLive } from './lib/suite.node.js';
import type { UpstreamSeen } from './lib/upstream.node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The whole run, setup included (caddy installation is scripts/test-e2e.sh's and not counted). */
const RUN_BUDGET_MS = 60_000;
const API_GATEWAY_CALLER = 'demo-gateway';
const ADMIN_CALLER = 'demo-caller';
/** The app the recipe pins; demo-gateway may also use OTHER_APP, so the pin is what decides. */
const APP = 'demo-oauth';
const APP_CLIENT_ID = '5f2d4b8a9c1e3f607a8b';
const OTHER_APP = 'demo-github-app';
const USER = 'octocat';
/** What Caddy 2.6's copy_headers leaves for a header the answer lacks. */
const PLACEHOLDER = '{http.reverse_proxy.header.';

type Seen = UpstreamSeen & { headers: Record<string, string | string[] | undefined> };

/** What the upstream saw, after the checks every passed request must meet. */
function upstreamSaw(answer: Answer, callerJwt: string): Seen {
  assert.equal(answer.status, 200, `status (body: ${answer.body.slice(0, 300)})`);
  assert.equal(answer.headers.get('x-upstream'), 'e2e', 'the answer did not come from upstream');
  const seen = JSON.parse(answer.body) as Seen;
  for (const [name, value] of Object.entries(seen.headers)) {
    const text = String(value);
    assert.ok(!text.includes(PLACEHOLDER), `the upstream saw a placeholder in ${name}: ${text}`);
    assert.ok(!text.includes(callerJwt), `the upstream saw the caller JWT in ${name}`);
    assert.ok(!name.startsWith('x-forward-auth-'), `the upstream saw ${name}: ${text}`);
  }
  assert.equal(seen.headers['x-gateway-authorization'], undefined);
  return seen;
}

interface World extends Stack {
  caddyUrl: string;
}

async function setUp(cleanup: Cleanup, live: SuiteLive): Promise<World> {
  const bin = findCaddy();
  if (bin === undefined)
    throw new Error("caddy is not installed; `npm run test:e2e` installs Debian's package");
  console.log(`info  caddy ${caddyVersion(bin)} (${bin})`);
  const stack = await startStack(cleanup, live, {
    root,
    gatewayCaller: API_GATEWAY_CALLER,
    adminCaller: ADMIN_CALLER,
    echoHeaders: true,
  });
  const caddyDir = join(stack.dir, 'caddy');
  mkdirSync(caddyDir);
  const caddy = await startCaddy(bin, caddyDir, {
    recipe: readCaddyRecipe(root),
    port: await freeLoopbackPort(),
    gatewayPort: stack.gateway.port,
    upstreamPort: stack.upstream.port,
    app: APP,
    callerJwt: stack.gatewayJwt,
  });
  live.outputs.push(['caddy', caddy.recentOutput]);
  live.kills.push(caddy.kill);
  cleanup.add('caddy', () => caddy.stop());
  console.log(`info  caddy on ${caddy.url} → upstream 127.0.0.1:${stack.upstream.port}`);
  return { ...stack, caddyUrl: caddy.url };
}

async function runChecks(checks: CheckRunner, w: World): Promise<void> {
  const newToken = (scopes: string[], expiresIn?: number) =>
    w.emulator.emulator.createToken({
      app: APP,
      login: USER,
      scopes,
      ...(expiresIn !== undefined && { expiresIn }),
    });
  const ghesChecks = () => {
    const calls = w.emulator.emulator.calls();
    return calls.check + calls.legacy_check;
  };
  const viaCaddy = (path: string, headers: Record<string, string> = {}) =>
    request(`${w.caddyUrl}${path}`, { headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const passed = (answer: Answer) => upstreamSaw(answer, w.gatewayJwt);
  /** Runs `body` and asserts Caddy passed nothing to the upstream meanwhile. */
  const blocked = async (body: () => Promise<void>) => {
    const before = w.upstream.hits();
    await body();
    assert.equal(w.upstream.hits(), before, 'the request reached the upstream');
  };
  const assertDenied = (answer: Answer, status: number) => {
    assert.equal(answer.status, status, `status (body: ${answer.body.slice(0, 200)})`);
    assert.equal(answer.headers.get('x-upstream'), null);
  };

  const user = newToken(['repo']);

  await checks.check(
    'caddy: valid token → 200 from the upstream with the X-Auth-* identity, path and query kept',
    async () => {
      const before = w.upstream.hits();
      const seen = passed(await viaCaddy('/api/things?page=2', bearer(user.token)));
      assert.equal(seen.path, '/api/things?page=2');
      assert.equal(seen.headers['x-auth-user'], USER);
      assert.equal(seen.headers['x-auth-user-id'], String(user.user_id));
      assert.match(String(seen.headers['x-auth-scopes']), /(^|[ ,])repo($|[ ,])/);
      assert.equal(seen.headers['x-auth-app'], APP);
      assert.equal(seen.headers['x-auth-client-id'], APP_CLIENT_ID);
      assert.equal(seen.headers['authorization'], `Bearer ${user.token}`);
      assert.equal(w.upstream.hits(), before + 1);
    },
  );

  await checks.check(
    'caddy: a token that never expires → no X-Auth-Token-Expires upstream (no 2.6 placeholder)',
    async () => {
      const seen = passed(await viaCaddy('/api/things', bearer(user.token)));
      assert.equal(seen.headers['x-auth-token-expires'], undefined);
    },
  );

  await checks.check(
    'caddy: an expiring token → X-Auth-Token-Expires upstream, its ISO 8601 expiry',
    async () => {
      const expiring = newToken(['repo'], 3_600);
      const seen = passed(await viaCaddy('/api/things', bearer(expiring.token)));
      const expires = String(seen.headers['x-auth-token-expires']);
      assert.match(expires, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    },
  );

  await checks.check('caddy: "Authorization: token …" form also passes', async () => {
    const seen = passed(await viaCaddy('/api/things', { authorization: `token ${user.token}` }));
    assert.equal(seen.headers['x-auth-user'], USER);
  });

  await checks.check(
    'caddy: a repeat is answered from the gateway cache (no new GHES check)',
    async () => {
      const before = ghesChecks();
      passed(await viaCaddy('/api/things', bearer(user.token)));
      assert.equal(ghesChecks(), before, 'GHES was asked again');
    },
  );

  await checks.check(
    'caddy: forged X-Auth-*, X-Forward-Auth-* and X-Gateway-Authorization never reach the upstream',
    async () => {
      const forged = {
        'x-auth-user': 'mallory',
        'x-auth-user-id': '666',
        'x-auth-scopes': 'admin:enterprise',
        'x-auth-token-expires': '2999-01-01T00:00:00Z',
        'x-auth-app': OTHER_APP,
        'x-auth-client-id': 'forged',
        'x-auth-role': 'admin',
        'x-forward-auth-app': APP,
        'x-forward-auth-scope': '',
        'x-forward-auth-anything': 'forged',
        'x-gateway-authorization': 'Bearer forged',
      };
      const seen = passed(await viaCaddy('/api/things', { ...bearer(user.token), ...forged }));
      assert.equal(seen.headers['x-auth-user'], USER);
      assert.equal(seen.headers['x-auth-user-id'], String(user.user_id));
      assert.doesNotMatch(String(seen.headers['x-auth-scopes']), /admin/);
      assert.equal(seen.headers['x-auth-token-expires'], undefined);
      assert.equal(seen.headers['x-auth-app'], APP);
      assert.equal(seen.headers['x-auth-client-id'], APP_CLIENT_ID);
      assert.equal(seen.headers['x-auth-role'], undefined);
    },
  );

  await checks.check(
    'caddy: the client cannot choose the app (X-Forward-Auth-App and ?app= name another app) → 401',
    async () => {
      // A GitHub-App user token, valid for OTHER_APP, which this caller may use.
      const other = w.emulator.emulator.createToken({ app: OTHER_APP, login: USER });
      const choose = { 'x-forward-auth-app': OTHER_APP, ...bearer(other.token) };
      // Asked directly with the client's header, the gateway checks it with OTHER_APP: active,
      // but without the recipe's required scope (403). Through Caddy the app stays APP: 401.
      const direct = await request(`${w.gateway.url}/forward-auth?scope=repo`, {
        headers: { ...choose, 'x-gateway-authorization': `Bearer ${w.gatewayJwt}` },
      });
      assert.equal(direct.status, 403, `direct (body: ${direct.body.slice(0, 200)})`);
      await blocked(async () => {
        const answer = await viaCaddy(`/api/things?app=${OTHER_APP}&scope=`, choose);
        assertDenied(answer, 401);
        assert.match(answer.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      });
    },
  );

  await checks.check(
    "caddy: no token → 401 with the gateway's challenge and problem, upstream not reached",
    () =>
      blocked(async () => {
        const answer = await viaCaddy('/api/things', { 'x-auth-user': USER });
        assertDenied(answer, 401);
        assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer realm="GitHub"/);
        assert.equal((JSON.parse(answer.body) as { credential?: string }).credential, 'end_user');
      }),
  );

  await checks.check('caddy: garbage token → 401, upstream not reached', () =>
    blocked(async () => {
      const garbage = `gho_${randomBytes(18).toString('hex')}`;
      assertDenied(await viaCaddy('/api/things', bearer(garbage)), 401);
      assertDenied(await viaCaddy('/api/things', bearer('not a token at all')), 401);
    }),
  );

  await checks.check(
    "caddy: a token without the recipe's scope (repo) → 403 insufficient_scope, upstream not reached",
    () =>
      blocked(async () => {
        const readOnly = newToken(['read:org']);
        const answer = await viaCaddy('/api/things', bearer(readOnly.token));
        assertDenied(answer, 403);
        assert.match(answer.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      }),
  );

  await checks.check(
    'caddy: revoked through the gateway → 401 at once (the token was cached as valid a moment before)',
    async () => {
      const doomed = newToken(['repo']);
      passed(await viaCaddy('/api/things', bearer(doomed.token)));
      const checksAfterFirst = ghesChecks();
      passed(await viaCaddy('/api/things', bearer(doomed.token)));
      assert.equal(ghesChecks(), checksAfterFirst, 'the valid answer was not cached');

      const revoked = await request(`${w.gateway.url}/v1/apps/${APP}/token/delete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.adminJwt}`, 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: doomed.token }),
      });
      assert.equal(revoked.status, 204, `token/delete (body: ${revoked.body.slice(0, 200)})`);
      await blocked(async () =>
        assertDenied(await viaCaddy('/api/things', bearer(doomed.token)), 401),
      );
    },
  );

  await checks.check(
    'caddy: GHES failing → 503 upstream-unavailable passed to the client, never 200',
    async () => {
      const fresh = newToken(['repo']);
      w.emulator.emulator.addFault({ status: 502 });
      try {
        await blocked(async () => {
          const answer = await viaCaddy('/api/things', bearer(fresh.token));
          assertDenied(answer, 503);
          assert.match(answer.body, /upstream-unavailable/);
        });
      } finally {
        w.emulator.emulator.clearFaults();
      }
      // The same token passes once GHES answers again: the 503 came from the fault alone.
      passed(await viaCaddy('/api/things', bearer(fresh.token)));
    },
  );

  // Last: it stops the gateway.
  await checks.check(
    'caddy: gateway down → 502 from Caddy (fail closed), upstream not reached',
    async () => {
      passed(await viaCaddy('/api/things', bearer(user.token)));
      await w.gateway.dispose();
      await blocked(async () =>
        assertDenied(await viaCaddy('/api/things', bearer(user.token)), 502),
      );
    },
  );
}

void runSuite<World>({ name: 'caddy e2e', budgetMs: RUN_BUDGET_MS, setUp, checks: runChecks });
