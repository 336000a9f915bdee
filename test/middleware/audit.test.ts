/**
 * The audit line (src/middleware/audit.ts) through a real gateway: exactly one structured record
 * per request, with ids and outcomes only; mutations are `audit` events; the route pattern is
 * logged, never the URL; latency comes from the injected clock.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/lib/errors';
import type { LogRecord } from '../../src/lib/log';
import { createTestGateway, type TestGateway, seedTokens } from '../helpers/gateway';
import { withSlowReads } from '../helpers/slow-kv';

/** The one request/audit line of the answer `res`. */
function lineOf(gw: TestGateway, res: Response): LogRecord {
  const id = res.headers.get('x-request-id');
  const lines = gw.logs.filter(
    (r) => r.request_id === id && (r.event === 'request' || r.event === 'audit'),
  );
  expect(lines).toHaveLength(1);
  return lines[0] as LogRecord;
}

describe('audit line', () => {
  it('a check: event request, caller, app, operation, cache status and a token id that is not the token', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const res = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });
    expect(res.status).toBe(200);
    const line = lineOf(gw, res);
    expect(line).toEqual({
      level: 'info',
      event: 'request',
      request_id: res.headers.get('x-request-id'),
      method: 'POST',
      route: '/v1/apps/:app/token/check',
      status: 200,
      caller: 'svc-demo',
      app: 'demo-oauth',
      operation: 'check',
      ghes_status: 200,
      ghes_ms: 0,
      kv_ms: 0,
      cache_status: res.headers.get('cache-status'),
      token_id: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/),
      outcome: 'ok',
      latency_ms: 0,
    });
    expect(token).not.toContain(String(line['token_id']));
  });

  it('kv_ms is the time the answer waited on KV; an L1 hit has none', async () => {
    // A KV whose reads take 7 ms of the gateway's clock (workerd's clock moves across I/O).
    let clock: { advanceMs(ms: number): void } | undefined;
    const slowKv = withSlowReads(env.TOKEN_CACHE, () => clock?.advanceMs(7));
    const gw = await createTestGateway({ kv: slowKv });
    clock = gw.clock;
    const token = seedTokens(gw).octocatOauth;
    const miss = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });
    expect(miss.status).toBe(200);
    expect(lineOf(gw, miss)['kv_ms']).toBe(7);
    const hit = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token });
    expect(hit.headers.get('cache-status')).toContain('detail=l1');
    expect(lineOf(gw, hit)).not.toHaveProperty('kv_ms');
  });

  it('a reset is an audit event whose token id matches the earlier check of the same token', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const check = lineOf(
      gw,
      await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token }),
    );
    const res = await gw.post('/v1/apps/demo-oauth/token/reset', { access_token: token });
    expect(res.status).toBe(200);
    const line = lineOf(gw, res);
    expect(line).toMatchObject({
      level: 'info',
      event: 'audit',
      audit_event: true,
      operation: 'reset',
      caller: 'svc-demo',
      app: 'demo-oauth',
      ghes_status: 200,
      status: 200,
      outcome: 'ok',
    });
    expect(line['token_id']).toBe(check['token_id']);
    // The same token for another app is another id (the key is per app).
    const other = lineOf(
      gw,
      await gw.post('/v1/apps/demo-github-app/token/check', { access_token: token }),
    );
    expect(other['token_id']).not.toBe(check['token_id']);
  });

  it.each([
    ['token/delete', 'delete', 204],
    ['grant/delete', 'grant_delete', 204],
    ['token/scoped', 'scoped', 200],
  ] as const)('%s is an audit event', async (op, operation, status) => {
    const gw = await createTestGateway();
    const t = seedTokens(gw);
    const body =
      op === 'token/scoped'
        ? { access_token: t.octocatGithubApp, target: 'octocat' }
        : { access_token: t.octocatOauth };
    const app = op === 'token/scoped' ? 'demo-github-app' : 'demo-oauth';
    const res = await gw.post(`/v1/apps/${app}/${op}`, body);
    expect(res.status).toBe(status);
    expect(lineOf(gw, res)).toMatchObject({
      event: 'audit',
      audit_event: true,
      operation,
      status,
      outcome: 'ok',
    });
  });

  it('a GHES failure: level error, the error code, the GHES status and an operator reason', async () => {
    const gw = await createTestGateway();
    gw.emulator.addFault({ status: 503, operation: 'delete' });
    const res = await gw.post('/v1/apps/demo-oauth/token/delete', {
      access_token: seedTokens(gw).octocatOauth,
    });
    expect(res.status).toBe(502);
    const line = lineOf(gw, res);
    expect(line).toMatchObject({
      level: 'error',
      event: 'audit',
      status: 502,
      error_code: 'upstream-error',
      ghes_status: 503,
      outcome: 'upstream-error',
      operation: 'delete',
    });
    expect(typeof line['reason']).toBe('string');
  });

  it('a refused caller: status 401, no caller named, and one caller.auth_failed record', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/v1/apps/demo-oauth/token/check', {
      method: 'POST',
      headers: { authorization: 'Bearer nonsense', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    const line = lineOf(gw, res);
    expect(line).toMatchObject({
      level: 'info',
      status: 401,
      error_code: 'unauthorized',
      outcome: 'unauthorized',
    });
    expect(line).not.toHaveProperty('caller');
    expect(gw.logs.filter((r) => r.event === 'caller.auth_failed')).toHaveLength(1);
  });

  it('logs the route pattern, never the URL and its query', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    // A credential in the query is refused (test/middleware/token-in-query.test.ts).
    const res = await gw.post('/v1/apps/demo-oauth/token/check?x=1&note=plain-note', {
      access_token: token,
    });
    expect(res.status).toBe(200);
    expect(lineOf(gw, res)['route']).toBe('/v1/apps/:app/token/check');
    for (const r of gw.logs) expect(JSON.stringify(r)).not.toContain('note=');
  });

  it('latency comes from the injected clock (GHES retry waits included)', async () => {
    const gw = await createTestGateway();
    gw.emulator.addFault({ status: 429, retry_after: 2, operation: 'check', times: 1 });
    const res = await gw.post('/v1/apps/demo-oauth/token/check', {
      access_token: seedTokens(gw).octocatOauth,
    });
    expect(res.status).toBe(200);
    const waited = gw.sleeps.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThanOrEqual(2000);
    expect(lineOf(gw, res)['latency_ms']).toBe(waited);
  });
});

describe('auditLog: a throw that escapes every layer still gets its line', () => {
  it('a non-Error thrown by a handler is answered by answerError and logged once', async () => {
    const { Hono } = await import('hono');
    const { auditLog } = await import('../../src/middleware/audit');
    const logs: LogRecord[] = [];
    const app = new Hono();
    app.use(
      '*',
      auditLog({
        log: (r) => logs.push(r),
        now: () => 0,
        answerError: () => new Response('problem', { status: 500 }),
      }),
    );
    app.get('/x', () => {
      throw 'not an Error'; // eslint-disable-line @typescript-eslint/only-throw-error
    });
    const res = await app.request('/x');
    expect(res.status).toBe(500);
    expect(logs).toEqual([expect.objectContaining({ event: 'request', status: 500 })]);
  });

  it('checks its options when built', async () => {
    const { auditLog } = await import('../../src/middleware/audit');
    expect(() =>
      auditLog({ log: () => undefined, now: () => 0 } as unknown as Parameters<typeof auditLog>[0]),
    ).toThrow(/answerError/);
    expect(() => auditLog({ log: () => undefined, now: () => 0, answerError: 1 as never })).toThrow(
      ConfigurationError,
    );
  });
});

describe('LOG_SAMPLE_HITS: only successful cache hits are sampled', () => {
  async function sampledApp(percent: number, draws: number[]) {
    const { Hono } = await import('hono');
    const { auditLog } = await import('../../src/middleware/audit');
    const logs: LogRecord[] = [];
    const points: AnalyticsEngineDataPoint[] = [];
    const app = new Hono<{ Variables: { audit: Record<string, unknown> } }>();
    app.use(
      '*',
      auditLog({
        log: (r) => logs.push(r),
        now: () => 0,
        answerError: () => new Response('problem', { status: 500 }),
        metrics: { writeDataPoint: (p) => void points.push(p ?? {}) },
        sampleHitsPercent: percent,
        random: () => draws.shift() ?? 0,
      }),
    );
    const answer =
      (cacheStatus: string | undefined, status = 200, auditEvent = false) =>
      (c: import('hono').Context<{ Variables: { audit: Record<string, unknown> } }>) => {
        if (cacheStatus !== undefined) c.get('audit')['cache_status'] = cacheStatus;
        if (auditEvent) c.get('audit')['audit_event'] = true;
        return c.body(null, status as 200);
      };
    app.get('/l1', answer('ghes-token-gateway; hit; detail=l1'));
    app.get('/kv', answer('ghes-token-gateway; hit; detail=kv'));
    app.get('/miss', answer('ghes-token-gateway; fwd=miss'));
    app.get('/denied', answer('ghes-token-gateway; hit; detail=l1', 404));
    app.get('/mutation', answer(undefined, 200, true));
    return { app, logs, points };
  }

  it('a hit is logged when the draw falls under the percent, with sample_percent', async () => {
    const { app, logs, points } = await sampledApp(25, [0.1, 0.5, 0.2, 0.9]);
    for (const path of ['/l1', '/l1', '/kv', '/kv']) await app.request(path);
    expect(logs.map((l) => [l['route'], l['sample_percent']])).toEqual([
      ['/l1', 25],
      ['/kv', 25],
    ]);
    // Metrics still count every request, and never carry the sampling.
    expect(points).toHaveLength(4);
  });

  it('misses, denials and mutations are always logged, and draw nothing', async () => {
    const draws = [0.99, 0.99, 0.99];
    const { app, logs } = await sampledApp(1, draws);
    for (const path of ['/miss', '/denied', '/mutation']) await app.request(path);
    expect(logs.map((l) => l['route'])).toEqual(['/miss', '/denied', '/mutation']);
    expect(logs.every((l) => l['sample_percent'] === undefined)).toBe(true);
    expect(draws).toHaveLength(3);
  });

  it('100 (the default) logs every hit without a sample_percent', async () => {
    const { app, logs } = await sampledApp(100, [0.999]);
    await app.request('/l1');
    expect(logs).toEqual([expect.not.objectContaining({ sample_percent: expect.anything() })]);
  });

  it.each([0, 101, 2.5])('refuses %s when built', async (percent) => {
    const { auditLog } = await import('../../src/middleware/audit');
    expect(() =>
      auditLog({
        log: () => undefined,
        now: () => 0,
        answerError: () => new Response(null),
        sampleHitsPercent: percent,
      }),
    ).toThrow(ConfigurationError);
  });
});
