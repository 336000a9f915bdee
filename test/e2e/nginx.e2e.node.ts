/**
 * End-to-end: a real nginx with `auth_request` in front of a dummy upstream, asking the running
 * gateway's /forward-auth, which checks tokens against the GHES emulator.
 *
 *   npm run test:e2e                              # installs Debian's nginx first when missing
 *   npx node --import tsx test/e2e/nginx.e2e.node.ts   # nginx already installed
 *
 * The gateway runs as it deploys: the `wrangler deploy --dry-run` bundle under miniflare 5 with
 * wrangler.toml's local vars (GHES_BASE_URL pointed at the emulator) and KV. Everything listens
 * on 127.0.0.1. One line per check, then `N passed, M failed` alone on the last line; the exit
 * code is non-zero on any failure. The whole run is bounded (RUN_BUDGET_MS), and every child
 * process and temp folder is removed on success, failure, timeout, SIGINT and SIGTERM;
 * scripts/test-e2e.sh sweeps up after a hard kill.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Cleanup,
  CheckRunner,
  freeLoopbackPort,
  REQUEST_TIMEOUT_MS,
  request,
  type Answer,
} from './lib/harness.node.js';
import { findNginx, inspectNginx, startNginx, type RunningNginx } from './lib/nginx.node.js';
import { startStack, type Stack } from './lib/stack.node.js';
import { runSuite, type SuiteLive } from './lib/suite.node.js';
import type { UpstreamSeen } from './lib/upstream.node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The whole run, setup included (nginx installation is scripts/test-e2e.sh's and not counted). */
const RUN_BUDGET_MS = 60_000;
/** Caller policy entries in wrangler.toml's local CALLER_POLICY. */
const API_GATEWAY_CALLER = 'demo-gateway';
const ADMIN_CALLER = 'demo-caller';
const APP = 'demo-oauth';
const USER = 'octocat';

/**
 * POSTs `bytes` of body with Transfer-Encoding: chunked (node's http client, which, unlike fetch,
 * keeps uploading while the answer arrives) and resolves to the status, or rejects when the
 * connection breaks first (ECONNRESET: the server answered mid-upload and dropped the rest).
 */
function chunkedPost(url: string, headers: Record<string, string>, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function upstreamSaw(answer: Answer): UpstreamSeen {
  assert.equal(
    answer.headers.get('x-upstream'),
    'e2e',
    'the answer did not come from the upstream',
  );
  return JSON.parse(answer.body) as UpstreamSeen;
}

interface World extends Stack {
  nginx: RunningNginx;
}

async function setUp(cleanup: Cleanup, live: SuiteLive): Promise<World> {
  const nginxBin = findNginx();
  if (nginxBin === undefined)
    throw new Error("nginx is not installed; `npm run test:e2e` installs Debian's package");
  const build = inspectNginx(nginxBin);
  console.log(`info  nginx ${build.version} (${nginxBin})`);
  const stack = await startStack(cleanup, live, {
    root,
    gatewayCaller: API_GATEWAY_CALLER,
    adminCaller: ADMIN_CALLER,
    echoHeaders: false,
  });
  const nginxDir = join(stack.dir, 'nginx');
  mkdirSync(nginxDir);
  const nginx = await startNginx({
    dir: nginxDir,
    port: await freeLoopbackPort(),
    build,
    upstreamPort: stack.upstream.port,
    gatewayPort: stack.gateway.port,
    app: APP,
    callerJwt: stack.gatewayJwt,
    locations: [
      { path: '/', scopes: [] },
      { path: '/repo/', scopes: ['repo'] },
      { path: '/admin/', scopes: ['admin:org'] },
    ],
  });
  live.outputs.push(['nginx', () => nginx.recentOutput()]);
  live.kills.push(() => nginx.kill());
  cleanup.add('nginx', () => nginx.stop());
  console.log(`info  nginx on ${nginx.url} → upstream 127.0.0.1:${stack.upstream.port}`);
  return { ...stack, nginx };
}

async function runChecks(checks: CheckRunner, w: World): Promise<void> {
  const newToken = (scopes: string[]) =>
    w.emulator.emulator.createToken({ app: APP, login: USER, scopes });
  const ghesChecks = () => {
    const calls = w.emulator.emulator.calls();
    return calls.check + calls.legacy_check;
  };
  const viaNginx = (path: string, headers: Record<string, string> = {}) =>
    request(`${w.nginx.url}${path}`, { headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  /** Runs `body` and asserts nginx passed nothing to the upstream meanwhile. */
  const blocked = async (body: () => Promise<void>) => {
    const before = w.upstream.hits();
    await body();
    assert.equal(w.upstream.hits(), before, 'the request reached the upstream');
  };
  const assertDenied = (answer: Answer, status: 401 | 403) => {
    assert.equal(answer.status, status, `status (body: ${answer.body.slice(0, 200)})`);
    assert.equal(answer.headers.get('x-upstream'), null);
  };

  const user = newToken(['repo']);

  await checks.check(
    'gateway /forward-auth answers directly: 200 with X-Auth-* for octocat',
    async () => {
      const answer = await request(`${w.gateway.url}/forward-auth?app=${APP}`, {
        headers: { ...bearer(user.token), 'x-gateway-authorization': `Bearer ${w.gatewayJwt}` },
      });
      assert.equal(answer.status, 200, `status (body: ${answer.body.slice(0, 300)})`);
      assert.equal(answer.headers.get('x-auth-user'), USER);
      assert.equal(answer.headers.get('x-auth-user-id'), String(user.user_id));
      assert.match(answer.headers.get('x-auth-scopes') ?? '', /(^|[ ,])repo($|[ ,])/);
    },
  );

  await checks.check(
    'nginx: valid token → 200 from the upstream with X-User: octocat',
    async () => {
      const before = w.upstream.hits();
      const answer = await viaNginx('/api/things?page=2', bearer(user.token));
      assert.equal(answer.status, 200, `status (body: ${answer.body.slice(0, 200)})`);
      assert.deepEqual(upstreamSaw(answer), { path: '/api/things?page=2', x_user: USER });
      assert.equal(w.upstream.hits(), before + 1);
    },
  );

  await checks.check('nginx: "Authorization: token …" form also passes', async () => {
    const answer = await viaNginx('/api/things', { authorization: `token ${user.token}` });
    assert.equal(answer.status, 200, `status (body: ${answer.body.slice(0, 200)})`);
    assert.equal(upstreamSaw(answer).x_user, USER);
  });

  await checks.check(
    'nginx: a repeat is answered from the gateway cache (no new GHES check)',
    async () => {
      const before = ghesChecks();
      const answer = await viaNginx('/api/things', bearer(user.token));
      assert.equal(answer.status, 200);
      assert.equal(ghesChecks(), before, 'GHES was asked again');
    },
  );

  await checks.check("nginx: a client-sent X-User is replaced by the gateway's user", async () => {
    const answer = await viaNginx('/api/things', { ...bearer(user.token), 'x-user': 'mallory' });
    assert.equal(answer.status, 200);
    assert.equal(upstreamSaw(answer).x_user, USER);
  });

  await checks.check(
    'nginx: no token → 401 with WWW-Authenticate: Bearer, upstream not reached',
    () =>
      blocked(async () => {
        const answer = await viaNginx('/api/things', { 'x-user': USER });
        assertDenied(answer, 401);
        assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer\b/i);
      }),
  );

  await checks.check('nginx: garbage token → 401, upstream not reached', () =>
    blocked(async () => {
      const garbage = `gho_${randomBytes(18).toString('hex')}`;
      assertDenied(await viaNginx('/api/things', bearer(garbage)), 401);
      assertDenied(await viaNginx('/api/things', bearer('not a token at all')), 401);
    }),
  );

  await checks.check('nginx: scope=repo location → 200 for a token with repo', async () => {
    const answer = await viaNginx('/repo/contents', bearer(user.token));
    assert.equal(answer.status, 200, `status (body: ${answer.body.slice(0, 200)})`);
    assert.deepEqual(upstreamSaw(answer), { path: '/repo/contents', x_user: USER });
  });

  await checks.check(
    'nginx: scope=admin:org location → 403 for a repo-only token, upstream not reached',
    () =>
      blocked(async () => {
        assertDenied(await viaNginx('/admin/members', bearer(user.token)), 403);
      }),
  );

  await checks.check(
    'nginx: revoked through the gateway → 401 at once (the token was cached as valid a moment before)',
    async () => {
      const doomed = newToken(['repo']);
      const first = await viaNginx('/api/things', bearer(doomed.token));
      assert.equal(first.status, 200, 'the token did not pass before revocation');
      const checksAfterFirst = ghesChecks();
      const second = await viaNginx('/api/things', bearer(doomed.token));
      assert.equal(second.status, 200);
      assert.equal(ghesChecks(), checksAfterFirst, 'the valid answer was not cached');

      const revoked = await request(`${w.gateway.url}/v1/apps/${APP}/token/delete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.adminJwt}`, 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: doomed.token }),
      });
      assert.equal(revoked.status, 204, `token/delete (body: ${revoked.body.slice(0, 200)})`);

      await blocked(async () => {
        const after = await viaNginx('/api/things', bearer(doomed.token));
        assertDenied(after, 401);
        assert.match(after.headers.get('www-authenticate') ?? '', /^Bearer\b/i);
      });
    },
  );

  await checks.check(
    'gateway: a chunked body over the limit gets a clean 413, five times, and the next request is answered',
    async () => {
      for (let i = 0; i < 5; i++) {
        const status = await chunkedPost(
          `${w.gateway.url}/v1/apps/${APP}/token/check`,
          { authorization: `Bearer ${w.adminJwt}`, 'content-type': 'application/json' },
          500_000,
        );
        assert.equal(status, 413, `attempt ${i + 1}`);
        const next = await request(`${w.gateway.url}/v1/apps/${APP}/token/check`, {
          method: 'POST',
          headers: { authorization: `Bearer ${w.adminJwt}`, 'content-type': 'application/json' },
          body: JSON.stringify({ access_token: user.token }),
        });
        assert.equal(next.status, 200, `after attempt ${i + 1} (body: ${next.body.slice(0, 200)})`);
      }
    },
  );

  // Last: it stops the gateway.
  await checks.check(
    'nginx: gateway down → 500 from nginx (fail closed), upstream not reached',
    async () => {
      // Passing just before shows that the 500 below comes from the gateway's absence alone.
      const up = await viaNginx('/api/things', bearer(user.token));
      assert.equal(up.status, 200, 'the token did not pass while the gateway was up');
      await w.gateway.dispose();
      await blocked(async () => {
        const answer = await viaNginx('/api/things', bearer(user.token));
        assert.equal(answer.status, 500, `status (body: ${answer.body.slice(0, 200)})`);
        assert.equal(answer.headers.get('x-upstream'), null);
      });
    },
  );
}

void runSuite<World>({ name: 'nginx e2e', budgetMs: RUN_BUDGET_MS, setUp, checks: runChecks });
