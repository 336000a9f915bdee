/**
 * Metrics (src/middleware/metrics.ts) through a real gateway with a fake Analytics Engine
 * binding: exactly one data point per request — success, denial, validation failure, GHES
 * failure, forward auth, a refused query — with its fields at the positions METRICS_LAYOUT (and
 * the SQL in docs/operations.md) gives them, no id that joins it to a log line, and a write that
 * fails never failing the request.
 */
import { describe, expect, it } from 'vitest';
import { cacheTier, dataPointOf, METRICS_LAYOUT } from '../../src/middleware/metrics';
import operationsMd from '../../docs/operations.md?raw';
import { createTestGateway, seedTokens, type TestGateway } from '../helpers/gateway';
import { forwardAuth } from '../introspection/requests';

/** A stand-in for the Workers Analytics Engine binding that keeps what it was given. */
export function fakeDataset(): AnalyticsEngineDataset & { points: AnalyticsEngineDataPoint[] } {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, writeDataPoint: (point) => void points.push(point ?? {}) };
}

type Named = Record<string, string | number | undefined> & { index: string | undefined };

/** A data point read back by column name, as the SQL in docs/operations.md reads it. */
function named(point: AnalyticsEngineDataPoint): Named {
  const out: Named = { index: point.indexes?.[0] as string | undefined };
  METRICS_LAYOUT.blobs.forEach((name, i) => (out[name] = point.blobs?.[i] as string));
  METRICS_LAYOUT.doubles.forEach((name, i) => (out[name] = point.doubles?.[i]));
  return out;
}

async function gatewayWithMetrics(options: Parameters<typeof createTestGateway>[0] = {}) {
  const metrics = fakeDataset();
  const gw = await createTestGateway({ ...options, vars: { ...options.vars, METRICS: metrics } });
  return { gw, metrics };
}

/** Sends one request and returns its only data point. */
async function onePoint(
  metrics: ReturnType<typeof fakeDataset>,
  send: () => Promise<Response>,
): Promise<{ res: Response; point: Named }> {
  const before = metrics.points.length;
  const res = await send();
  expect(metrics.points).toHaveLength(before + 1);
  return { res, point: named(metrics.points.at(-1) as AnalyticsEngineDataPoint) };
}

const check = (gw: TestGateway, token: string, sub?: string) =>
  gw.post('/v1/apps/demo-oauth/token/check', { access_token: token }, sub);

describe('one data point per request', () => {
  it('a check: route pattern, operation, app, caller, outcome, cache tier, GHES status', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    const token = seedTokens(gw).octocatOauth;
    const first = await onePoint(metrics, () => check(gw, token));
    expect(first.res.status).toBe(200);
    expect(first.point).toEqual({
      route: '/v1/apps/:app/token/check',
      method: 'POST',
      operation: 'check',
      app: 'demo-oauth',
      caller: 'svc-demo',
      outcome: 'ok',
      cache_tier: 'miss',
      status: 200,
      ghes_status: 200,
      ghes_ms: 0,
      duration_ms: 0,
      index: 'demo-oauth',
    });
    const again = await onePoint(metrics, () => check(gw, token));
    expect(again.point).toMatchObject({ cache_tier: 'L1', ghes_status: 0, outcome: 'ok' });
  });

  it('GHES latency: the time in GHES calls of this request, retries included; none on a hit', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    gw.emulator.addFault({ latency_ms: 250 });
    const token = seedTokens(gw).octocatOauth;
    const miss = await onePoint(metrics, () => check(gw, token));
    expect(miss.point).toMatchObject({ cache_tier: 'miss', ghes_status: 200, ghes_ms: 250 });
    expect(gw.logs.at(-1)).toMatchObject({ event: 'request', ghes_ms: 250 });
    const hit = await onePoint(metrics, () => check(gw, token));
    expect(hit.point).toMatchObject({ cache_tier: 'L1', ghes_ms: 0 });
    // A delete is a GHES call of its own (and the cache's re-read of the token is not).
    const del = await onePoint(metrics, () =>
      gw.post('/v1/apps/demo-oauth/token/delete', { access_token: token }),
    );
    expect(del.point).toMatchObject({ ghes_status: 204, ghes_ms: 250 });
  });

  it('a check answered from KV by another isolate is the KV tier', async () => {
    const first = await gatewayWithMetrics();
    const token = seedTokens(first.gw).octocatOauth;
    await check(first.gw, token);
    await first.gw.settle();
    // Same KV, fresh L1: another isolate.
    const kv = first.gw.vars['TOKEN_CACHE'] as KVNamespace;
    const second = await gatewayWithMetrics({
      kv,
      vars: { CACHE_PEPPER: first.gw.vars['CACHE_PEPPER'] },
    });
    second.gw.emulator.createToken({ app: 'demo-oauth', login: 'octocat', token });
    const { point } = await onePoint(second.metrics, () => check(second.gw, token));
    expect(point).toMatchObject({ cache_tier: 'KV', ghes_status: 0, status: 200 });
  });

  it('a denial by policy: 403, outcome forbidden, no cache tier', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    const token = seedTokens(gw).octocatOauth;
    const { res, point } = await onePoint(metrics, () =>
      gw.post('/v1/apps/demo-oauth/token/reset', { access_token: token }, 'svc-readonly'),
    );
    expect(res.status).toBe(403);
    expect(point).toMatchObject({
      operation: 'reset',
      caller: 'svc-readonly',
      outcome: 'forbidden',
      cache_tier: 'none',
      status: 403,
      ghes_status: 0,
    });
  });

  it('a caller that fails authentication: 401, no caller', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    const { res, point } = await onePoint(metrics, () =>
      gw.request('/v1/apps/demo-oauth/token/check', { method: 'POST' }),
    );
    expect(res.status).toBe(401);
    expect(point).toMatchObject({ caller: '', outcome: 'unauthorized', status: 401 });
  });

  it('a validation failure: 422, outcome validation-failed', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    const { res, point } = await onePoint(metrics, () =>
      gw.post('/v1/apps/demo-oauth/token/check', { acess_token: 'x' }),
    );
    expect(res.status).toBe(422);
    expect(point).toMatchObject({
      route: '/v1/apps/:app/token/check',
      outcome: 'validation-failed',
      cache_tier: 'none',
      status: 422,
    });
  });

  it('a GHES failure: 502, outcome upstream-error, the GHES status', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    const token = seedTokens(gw).octocatOauth;
    gw.emulator.setFaults({ operation: 'check', status: 502, times: 3 });
    const { res, point } = await onePoint(metrics, () => check(gw, token));
    expect(res.status).toBe(502);
    expect(point).toMatchObject({
      operation: 'check',
      outcome: 'upstream-error',
      status: 502,
      ghes_status: 502,
    });
  });

  it('forward auth: every method under one route pattern, outcome allowed or denied', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    const token = seedTokens(gw).octocatOauth;
    const allowed = await onePoint(metrics, () =>
      forwardAuth(gw, '/forward-auth/api/x', token, { method: 'DELETE' }),
    );
    expect(allowed.res.status).toBe(200);
    expect(allowed.point).toMatchObject({
      route: '/forward-auth/*',
      method: 'DELETE',
      operation: 'forward_auth',
      app: 'demo-oauth',
      outcome: 'allowed',
      cache_tier: 'miss',
      status: 200,
    });
    const denied = await onePoint(metrics, () => forwardAuth(gw, '/forward-auth', undefined));
    expect(denied.res.status).toBe(401);
    expect(denied.point).toMatchObject({ outcome: 'denied_missing', status: 401 });
  });

  it('a refused query string and an unknown path have their data point too', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    const token = seedTokens(gw).octocatOauth;
    const refused = await onePoint(metrics, () => gw.request(`/healthz?access_token=${token}`));
    expect(refused.point).toMatchObject({
      outcome: 'token-in-query',
      status: 400,
      index: undefined,
    });
    const missing = await onePoint(metrics, () => gw.request('/nowhere'));
    expect(missing.point).toMatchObject({ outcome: 'not-found', status: 404 });
  });

  it('holds no request id or token id: nothing joins it to a log line', async () => {
    const { gw, metrics } = await gatewayWithMetrics();
    const token = seedTokens(gw).octocatOauth;
    await check(gw, token);
    await check(gw, token);
    const ids = gw.logs.flatMap((r) =>
      [r['request_id'], r['token_id']].filter((v): v is string => typeof v === 'string'),
    );
    expect(ids.length).toBeGreaterThanOrEqual(4);
    const written = JSON.stringify(metrics.points);
    for (const id of ids) expect(written).not.toContain(id);
  });
});

describe('writing never fails a request', () => {
  it('a throwing binding: the answer is unchanged, the failure logged once', async () => {
    const broken: AnalyticsEngineDataset = {
      writeDataPoint: () => {
        throw new TypeError('dataset unavailable');
      },
    };
    const gw = await createTestGateway({ vars: { METRICS: broken } });
    const token = seedTokens(gw).octocatOauth;
    expect((await check(gw, token)).status).toBe(200);
    expect((await check(gw, token)).status).toBe(200);
    expect(gw.logs.filter((r) => r.event === 'metrics.write_failed')).toEqual([
      { level: 'warn', event: 'metrics.write_failed', reason: 'TypeError' },
    ]);
  });

  it('without the binding the gateway answers as before', async () => {
    const gw = await createTestGateway();
    expect(gw.vars['METRICS']).toBeUndefined();
    expect((await check(gw, seedTokens(gw).octocatOauth)).status).toBe(200);
  });
});

describe('dataPointOf', () => {
  it('picks the layout fields by name and nothing else', () => {
    const point = dataPointOf({
      level: 'info',
      event: 'audit',
      request_id: 'req-1234',
      token_id: 'w4ZMHY_6kAku',
      reason: 'GHES 503 after 3 attempts',
      route: '/v1/apps/:app/token/reset',
      method: 'POST',
      operation: 'reset',
      app: 'platform-app',
      caller: 'svc-deployer',
      outcome: 'upstream-unavailable',
      status: 503,
      ghes_status: 503,
      ghes_ms: 1500,
      latency_ms: 1510,
    });
    expect(point).toEqual({
      blobs: [
        '/v1/apps/:app/token/reset',
        'POST',
        'reset',
        'platform-app',
        'svc-deployer',
        'upstream-unavailable',
        'none',
      ],
      doubles: [503, 503, 1500, 1510],
      indexes: ['platform-app'],
    });
  });

  it('withholds credential-shaped caller text and uses only an app name as the index', () => {
    const token = `gho_${'A1'.repeat(18)}`;
    const point = dataPointOf({ level: 'info', event: 'request', app: token, caller: token });
    expect(JSON.stringify(point)).not.toContain(token);
    expect(point.indexes).toEqual([]);
  });

  it.each([
    [undefined, 'none'],
    ['ghes-token-gateway; hit; ttl=42; detail=l1', 'L1'],
    ['ghes-token-gateway; hit; ttl=12; detail=kv', 'KV'],
    ['ghes-token-gateway; fwd=uri-miss; fwd-status=200; stored', 'miss'],
    ['ghes-token-gateway; fwd=stale; detail=stale-if-error', 'miss'],
    ['ghes-token-gateway; fwd=miss; collapsed', 'miss'],
  ])('cache tier of %j is %s', (status, tier) => {
    expect(cacheTier(status)).toBe(tier);
  });
});

describe('the layout and the documented SQL agree', () => {
  it('docs/operations.md names every column at its position', () => {
    const row = (column: string, name: string) =>
      new RegExp(`^\\|\\s*\`${column}\`\\s*\\|\\s*\`${name}\`\\s*\\|`, 'm');
    METRICS_LAYOUT.blobs.forEach((name, i) =>
      expect(operationsMd).toMatch(row(`blob${i + 1}`, name)),
    );
    METRICS_LAYOUT.doubles.forEach((name, i) =>
      expect(operationsMd).toMatch(row(`double${i + 1}`, name)),
    );
    expect(operationsMd).toMatch(row('index1', METRICS_LAYOUT.index));
  });
});
