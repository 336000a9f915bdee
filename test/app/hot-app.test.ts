/**
 * The hot paths' own app (src/app.ts `createApp(deps, 'hot')`, src/index.ts `hotPathsFirst`):
 * introspection, forward auth and health are answered by an app of their route groups alone, and
 * every other path by the whole app, built on the first request that needs it. Safe only while
 * the whole app would run exactly the same chain on every hot path: checked here on the routers.
 */
import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createApp, isHotPath } from '../../src/app';
import type { AppEnv } from '../../src/context';
import { gatewayDeps, hotPathsFirst } from '../../src/index';
import { ConfigurationError } from '../../src/lib/errors';
import type { LogRecord } from '../../src/lib/log';
import { createTestGateway, seedTokens } from '../helpers/gateway';
import { executionContext } from '../helpers/execution-context';

type Env = Parameters<typeof gatewayDeps>[0];
const ctx = executionContext();

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Hot paths, as Hono routes them: the routes' own and paths below forward auth's. */
const HOT = ['/introspect', '/healthz', '/forward-auth', '/forward-auth/', '/forward-auth/a/b'];
const NOT_HOT = [
  '/',
  '/introspect/',
  '/introspection',
  '/healthz/',
  '/forward-authx',
  '/v1/forward-auth',
  '/v1/apps/demo-oauth/token/check',
  '/openapi.json',
  '/.well-known/oauth-authorization-server',
];

async function bothApps(): Promise<{ hot: Hono<AppEnv>; all: Hono<AppEnv> }> {
  const gw = await createTestGateway();
  const deps = gatewayDeps(gw.vars as Env, { clock: gw.clock, log: () => undefined });
  if (!deps.ok) throw new Error(deps.error.join('; '));
  return { hot: createApp(deps.value, 'hot'), all: createApp(deps.value) };
}

/** The handlers a router runs for a request, by their source (the apps' closures differ). */
function chain(app: Hono<AppEnv>, method: string, path: string): string[] {
  const [matched] = app.router.match(method, path);
  return matched.map((entry) => String((entry as unknown as [unknown])[0]));
}

describe('isHotPath', () => {
  it.each(HOT)('takes %s as hot', (path) => expect(isHotPath(path)).toBe(true));
  it.each(NOT_HOT)('leaves %s to the whole app', (path) => expect(isHotPath(path)).toBe(false));
});

describe('the hot app', () => {
  it('runs the same chain as the whole app on every hot path, for every method', async () => {
    const { hot, all } = await bothApps();
    for (const path of HOT)
      for (const method of METHODS) {
        const expected = chain(all, method, path);
        expect(chain(hot, method, path), `${method} ${path}`).toEqual(expected);
      }
    // More than the three app-wide middlewares: the comparison reached the groups' own handlers.
    for (const [method, path] of [
      ['POST', '/introspect'],
      ['GET', '/healthz'],
      ['GET', '/forward-auth'],
      ['DELETE', '/forward-auth/a/b'],
    ] as const)
      expect(chain(hot, method, path).length, `${method} ${path}`).toBeGreaterThan(3);
  });

  it('registers no route outside the hot paths', async () => {
    const { hot } = await bothApps();
    const paths = new Set(hot.routes.map((r) => r.path).filter((p) => p !== '/*'));
    expect([...paths].sort()).toEqual(['/forward-auth/*', '/healthz', '/introspect']);
    for (const p of paths) expect(isHotPath(p.replace(/\/\*$/, '')), p).toBe(true);
  });

  it('leaves routes the whole app needs out, so a new isolate does not build them', async () => {
    const { hot, all } = await bothApps();
    expect(hot.routes.length).toBeLessThan(all.routes.length / 2);
    expect(all.routes.some((r) => r.path === '/openapi.json')).toBe(true);
    expect(hot.routes.some((r) => r.path === '/openapi.json')).toBe(false);
  });
});

describe('hotPathsFirst', () => {
  const answer = (status: number) => () => new Response(null, { status });

  it('builds the whole app only when a path that is not hot comes, and once', async () => {
    let builds = 0;
    const gateway = hotPathsFirst(
      { fetch: answer(201) },
      () => {
        builds += 1;
        return answer(202);
      },
      () => undefined,
    );
    const env = {} as Env;
    for (const path of HOT) {
      const res = await gateway(new Request(`https://gw.test${path}?x=1`), env, ctx);
      expect(res.status, path).toBe(201);
    }
    // Hono's routing path: percent-decoded, so this is /introspect to the app as well.
    expect((await gateway(new Request('https://gw.test/%69ntrospect'), env, ctx)).status).toBe(201);
    expect(builds).toBe(0);
    for (const path of NOT_HOT)
      expect((await gateway(new Request(`https://gw.test${path}`), env, ctx)).status, path).toBe(
        202,
      );
    expect(builds).toBe(1);
  });

  it('answers misconfigured on the other paths if the whole app cannot be built, hot paths still answered', async () => {
    const logs: LogRecord[] = [];
    let builds = 0;
    const gateway = hotPathsFirst(
      { fetch: answer(200) },
      () => {
        builds += 1;
        throw new ConfigurationError('bodyLimit', '"maxBytes" must be a non-negative integer');
      },
      (r) => logs.push(r),
    );
    const env = {} as Env;
    for (let i = 0; i < 2; i++) {
      const res = await gateway(new Request('https://gw.test/v1/apps/a/token/check'), env, ctx);
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as { code: string; detail: string };
      expect(body.code).toBe('misconfigured');
      expect(body.detail).not.toContain('maxBytes');
    }
    expect(builds).toBe(1);
    const invalid = logs.filter((r) => r.event === 'config.invalid');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.errors).toEqual(['bodyLimit: "maxBytes" must be a non-negative integer']);
    expect((await gateway(new Request('https://gw.test/healthz'), env, ctx)).status).toBe(200);
  });
});

describe('through the built gateway', () => {
  it('answers hot and other paths alike before and after the whole app is built', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const introspect = async () =>
      gw.request('/introspect', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await gw.caller()}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, app: 'demo-oauth' }).toString(),
      });
    const first = await introspect();
    expect(first.status).toBe(200);
    expect(((await first.json()) as { active: boolean }).active).toBe(true);
    // A 405 on a hot path names its methods from the hot app's table, as the whole app would.
    const wrongMethod = await gw.request('/introspect', {
      headers: { authorization: `Bearer ${await gw.caller()}` },
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const doc = await gw.request('/openapi.json');
    expect(doc.status).toBe(200);
    const paths = Object.keys(((await doc.json()) as { paths: object }).paths);
    expect(paths).toEqual(expect.arrayContaining(['/introspect', '/healthz', '/forward-auth']));
    const again = await introspect();
    expect(((await again.json()) as { active: boolean }).active).toBe(true);
    expect(gw.logs.filter((r) => r.event === 'request')).toHaveLength(4);
  });
});
