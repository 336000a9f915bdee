/**
 * Every request gets exactly one request (or audit) log line: answers from routes, 404s and
 * trailing-slash misses, 405s, 413s (declared and chunked), refusals in caller auth, rate limits,
 * GHES failures, and a gateway whose configuration is invalid.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWorker } from '../../src/index';
import type { LogRecord } from '../../src/lib/log';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { executionContext } from '../helpers/execution-context';

type Send = (gw: TestGateway) => Promise<Response>;

const json = async (gw: TestGateway, body: string, extra: Record<string, string> = {}) => ({
  method: 'POST',
  headers: {
    authorization: `Bearer ${await gw.caller()}`,
    'content-type': 'application/json',
    ...extra,
  },
  body,
});

function chunked(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += 1024;
      controller.enqueue(new Uint8Array(1024).fill(0x61));
    },
  });
}

const token = (gw: TestGateway) => gw.emulator.seed!.tokens.octocatOauth;

const REQUESTS: [string, number, Send][] = [
  ['a check', 200, (gw) => gw.post('/v1/apps/demo-oauth/token/check', { access_token: token(gw) })],
  [
    'a reset (audit event)',
    200,
    (gw) => gw.post('/v1/apps/demo-oauth/token/reset', { access_token: token(gw) }),
  ],
  ['an unknown path', 404, (gw) => gw.request('/nowhere')],
  ['a trailing slash on a public route', 404, (gw) => gw.request('/healthz/')],
  [
    'a trailing slash under /v1',
    404,
    async (gw) => gw.request('/v1/apps/demo-oauth/token/check/', await json(gw, '{}')),
  ],
  [
    'an unknown /v1 operation',
    404,
    async (gw) => gw.request('/v1/apps/demo-oauth/token/nope', await json(gw, '{}')),
  ],
  [
    'a wrong method',
    405,
    async (gw) =>
      gw.request('/introspect', { headers: { authorization: `Bearer ${await gw.caller()}` } }),
  ],
  [
    'a wrong method on a /v1 route',
    405,
    async (gw) =>
      gw.request('/v1/apps/demo-oauth/token/check', {
        headers: { authorization: `Bearer ${await gw.caller()}` },
      }),
  ],
  ['HEAD of a missing path', 404, (gw) => gw.request('/nowhere', { method: 'HEAD' })],
  [
    'a declared oversized body',
    413,
    async (gw) =>
      gw.request(
        '/v1/apps/demo-oauth/token/check',
        await json(gw, `{"access_token":"${'a'.repeat(70_000)}"}`),
      ),
  ],
  [
    'a chunked oversized body',
    413,
    async (gw) =>
      gw.request('/v1/apps/demo-oauth/token/check', {
        ...(await json(gw, '')),
        body: chunked(200_000),
        duplex: 'half',
      } as RequestInit),
  ],
  [
    'a wrong content type',
    415,
    async (gw) =>
      gw.request(
        '/v1/apps/demo-oauth/token/check',
        await json(gw, '{}', { 'content-type': 'text/plain' }),
      ),
  ],
  [
    'malformed JSON',
    400,
    async (gw) => gw.request('/v1/apps/demo-oauth/token/check', await json(gw, '{')),
  ],
  [
    'a schema failure',
    422,
    (gw) => gw.post('/v1/apps/demo-oauth/token/check', { access_token: 1 }),
  ],
  [
    'no caller credential',
    401,
    (gw) => gw.request('/v1/apps/demo-oauth/token/check', { method: 'POST', body: '{}' }),
  ],
  [
    'a caller without a policy',
    403,
    (gw) => gw.post('/v1/apps/demo-oauth/token/check', { access_token: token(gw) }, 'svc-nobody'),
  ],
  [
    'an unknown app',
    404,
    (gw) => gw.post('/v1/apps/no-such-app/token/check', { access_token: token(gw) }),
  ],
  [
    'forward auth without a gateway credential',
    401,
    (gw) => gw.request('/forward-auth', { headers: { authorization: `Bearer ${token(gw)}` } }),
  ],
  [
    'introspection',
    200,
    async (gw) =>
      gw.request('/introspect', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await gw.caller()}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `token=${token(gw)}`,
      }),
  ],
  ['the OpenAPI document', 200, (gw) => gw.request('/openapi.json')],
  [
    'GHES failing',
    502,
    (gw) => (
      gw.emulator.addFault({ status: 503, operation: 'delete' }),
      gw.post('/v1/apps/demo-oauth/token/delete', { access_token: token(gw) })
    ),
  ],
];

/** The request/audit lines written for the answer `res`. */
function linesOf(gw: TestGateway, res: Response): LogRecord[] {
  const id = res.headers.get('x-request-id');
  expect(id).not.toBeNull();
  return gw.logs.filter(
    (r) => r.request_id === id && (r.event === 'request' || r.event === 'audit'),
  );
}

describe('exactly one log line per request', () => {
  it.each(REQUESTS)('%s (%i)', async (_name, status, send) => {
    const gw = await createTestGateway();
    const res = await send(gw);
    expect(res.status).toBe(status);
    const lines = linesOf(gw, res);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status, method: expect.any(String) });
    if (status >= 400) expect(lines[0]!['error_code']).toEqual(expect.any(String));
  });

  it('the whole table through one gateway: as many lines as requests', async () => {
    const gw = await createTestGateway();
    for (const [, status, send] of REQUESTS) expect((await send(gw)).status).toBe(status);
    const lines = gw.logs.filter((r) => r.event === 'request' || r.event === 'audit');
    expect(lines).toHaveLength(REQUESTS.length);
    expect(new Set(lines.map((l) => l['request_id'])).size).toBe(REQUESTS.length);
  });

  it('a rate-limited caller (429)', async () => {
    const gw = await createTestGateway({
      vars: { INTROSPECTION_RATE_LIMITER: { limit: async () => ({ success: false }) } },
    });
    const res = await gw.post('/v1/apps/demo-oauth/token/check', { access_token: token(gw) });
    expect(res.status).toBe(429);
    expect(linesOf(gw, res)).toEqual([expect.objectContaining({ error_code: 'rate-limited' })]);
  });
});

describe('a gateway whose configuration is invalid', () => {
  afterEach(() => vi.restoreAllMocks());

  it('answers 500 misconfigured with one request line per request, naming the errors', async () => {
    const gw = await createTestGateway();
    const worker = createWorker({ clock: gw.clock });
    const env = { ...gw.vars, GHES_VERSION: '1.0' } as unknown as Parameters<
      typeof worker.fetch
    >[1];
    const lines: Record<string, unknown>[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    });
    const ctx = executionContext();
    const ids: (string | null)[] = [];
    for (const path of ['/healthz', '/nowhere', '/healthz']) {
      const res = await worker.fetch(
        new Request(`https://gateway.test${path}`),
        env,
        ctx as unknown as ExecutionContext,
      );
      expect(res.status).toBe(500);
      ids.push(res.headers.get('x-request-id'));
    }
    const requestLines = lines.filter((l) => l['event'] === 'request');
    expect(requestLines.map((l) => l['request_id'])).toEqual(ids);
    for (const l of requestLines)
      expect(l).toMatchObject({
        status: 500,
        error_code: 'misconfigured',
        errors: expect.any(Array),
      });
    expect(lines.filter((l) => l['event'] === 'config.invalid')).toHaveLength(1);
  });
});
