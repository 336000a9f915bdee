/**
 * The app shell (src/app.ts, src/index.ts): request ids, not-found and error answers, the
 * OpenAPI document, CORS staying off, and the worker entry answering a misconfiguration.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildGateway, createWorker } from '../../src/index';
import type { LogRecord } from '../../src/lib/log';
import { createTestGateway, secretsOf, seedTokens } from '../helpers/gateway';
import { executionContext } from '../helpers/execution-context';

type Env = Parameters<typeof buildGateway>[0];
const ctx = executionContext();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('reuses a plain incoming x-request-id on answers, problems and the log line', async () => {
    const gw = await createTestGateway();
    const ok = await gw.post(
      '/v1/apps/demo-oauth/token/check',
      { access_token: seedTokens(gw).octocatOauth },
      'svc-demo',
      {
        'x-request-id': 'edge-req.42:a_b-c',
      },
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('edge-req.42:a_b-c');

    const failed = await gw.post(
      '/v1/apps/demo-oauth/token/check',
      { access_token: 'gho_x' },
      'svc-demo',
      {
        'x-request-id': 'edge-req-43',
      },
    );
    expect(failed.status).toBe(404);
    expect(failed.headers.get('x-request-id')).toBe('edge-req-43');
    expect(((await failed.json()) as { request_id: string }).request_id).toBe('edge-req-43');
    expect(
      gw.logs.filter((r) => r.request_id === 'edge-req-43' && r.event === 'request'),
    ).toHaveLength(1);
  });

  it.each([
    ['spaces', 'has spaces in it'],
    ['quotes and angle brackets', '"><script>'],
    ['over 64 characters', 'a'.repeat(65)],
    ['JSON', '{"admin":true}'],
    ['the shape of an OAuth token', 'gho_16C7e42F292c6912E7710c838347Ae178B4a'],
    ['the shape of a GitHub-App user token', 'ghu_16C7e42F292c6912E7710c838347Ae178B4a'],
    ['the shape of a fine-grained PAT', 'github_pat_11ABCDEFG0123456789_abcdefghij'],
    ['the shape of a classic 40-hex token', 'e72e16c7e42f292c6912e7710c838347ae178b4a'],
  ])('replaces an incoming id with %s by a fresh UUID', async (_name, incoming) => {
    const gw = await createTestGateway();
    const res = await gw.request('/healthz', { headers: { 'x-request-id': incoming } });
    const id = res.headers.get('x-request-id') ?? '';
    expect(id).toMatch(UUID);
    expect(JSON.stringify(gw.logs)).not.toContain(incoming);
  });

  it('gives every request its own id', async () => {
    const gw = await createTestGateway();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++)
      ids.add((await gw.request('/healthz')).headers.get('x-request-id') ?? '');
    expect(ids.size).toBe(5);
  });
});

describe('routing and error answers', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/'],
  ])('%s %s is a 404 not-found problem', async (method, path) => {
    const gw = await createTestGateway();
    const res = await gw.request(path, { method });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const problem = (await res.json()) as { code: string; request_id: string };
    expect(problem.code).toBe('not-found');
    expect(problem.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('an unknown /v1 path needs caller auth first (nothing about routes leaks to strangers)', async () => {
    const gw = await createTestGateway();
    expect((await gw.request('/v1/nope')).status).toBe(401);
    const authed = await gw.request('/v1/nope', {
      headers: { authorization: `Bearer ${await gw.caller()}` },
    });
    expect(authed.status).toBe(404);
  });

  it.each([
    ['POST', '/healthz', 'GET'],
    ['DELETE', '/openapi.json', 'GET'],
  ])('%s %s is a 405 method-not-allowed problem naming %s', async (method, path, allow) => {
    const gw = await createTestGateway();
    const res = await gw.request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('method-not-allowed');
  });

  it('GET on a POST-only token route is 405, and no GHES call is made', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/v1/apps/demo-oauth/token/check', {
      headers: { authorization: `Bearer ${await gw.caller()}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(gw.outbound).toEqual([]);
  });

  it('answers no CORS preflight and sets no CORS header (an internal credential service)', async () => {
    const gw = await createTestGateway();
    const preflight = await gw.request('/v1/apps/demo-oauth/token/check', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(401);
    const ok = await gw.post(
      '/v1/apps/demo-oauth/token/check',
      { access_token: seedTokens(gw).octocatOauth },
      'svc-demo',
      {
        origin: 'https://evil.test',
      },
    );
    expect(ok.status).toBe(200);
    for (const res of [preflight, ok]) {
      for (const [name] of res.headers) expect(name).not.toMatch(/^access-control-/);
    }
  });

  it('an unexpected error is a 500 internal problem that echoes nothing of it', async () => {
    const gw = await createTestGateway();
    const logs: LogRecord[] = [];
    let thrown = false;
    const built = buildGateway(gw.vars as Env, {
      fetch: async () => new Response('{"message":"Server Error"}', { status: 500 }),
      clock: gw.clock,
      // The first GHES failure log throws an error whose message quotes a secret-looking value,
      // standing in for any bug deep inside a request.
      log: (r) => {
        if (!thrown && r.event === 'ghes.call_failed') {
          thrown = true;
          throw new Error('boom: gho_leakedleakedleakedleakedleakedleak01');
        }
        logs.push(r);
      },
    });
    if (!built.ok) throw new Error(built.error.join('; '));
    const res = await built.value(
      new Request('https://gateway.test/v1/apps/demo-oauth/token/check', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await gw.caller()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ access_token: seedTokens(gw).octocatOauth }),
      }),
      gw.vars as Env,
      ctx,
    );
    const text = await res.text();
    expect(res.status).toBe(500);
    expect((JSON.parse(text) as { code: string }).code).toBe('internal');
    expect(text).not.toContain('boom');
    expect(text).not.toContain('gho_leaked');
    const error = logs.find((r) => r.event === 'request.error');
    expect(error).toMatchObject({
      level: 'error',
      code: 'internal',
      reason: 'Error: unexpected error',
    });
    expect(JSON.stringify(logs)).not.toContain('gho_leaked');
  });
});

describe('GET /openapi.json', () => {
  it('documents every route, with the caller JWT security scheme and no secrets', async () => {
    const gw = await createTestGateway();
    const res = await gw.request('/openapi.json');
    expect(res.status).toBe(200);
    const text = await res.text();
    const doc = JSON.parse(text) as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: 'https://gateway.test' }]);
    expect(doc.components.securitySchemes['callerJwt']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    for (const op of [
      'token/check',
      'token/reset',
      'token/scoped',
      'token/delete',
      'grant/delete',
    ]) {
      const post = doc.paths[`/v1/apps/{app}/${op}`]?.['post'];
      expect(post, op).toBeDefined();
      expect(post?.security).toEqual([{ callerJwt: [] }]);
      expect(post?.requestBody).toBeDefined();
    }
    expect(doc.paths['/healthz']?.['get']).toBeDefined();
    expect(doc.paths['/introspect']?.['post']).toBeDefined();
    for (const secret of secretsOf(gw)) expect(text).not.toContain(secret);
  });

  it('names PUBLIC_URL as the server when it is set', async () => {
    const gw = await createTestGateway({ vars: { PUBLIC_URL: 'https://tokens.example.com/' } });
    const doc = (await (await gw.request('/openapi.json')).json()) as {
      servers: { url: string }[];
    };
    expect(doc.servers).toEqual([{ url: 'https://tokens.example.com' }]);
  });
});

describe('the worker entry with a misconfiguration', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([
    [
      'GHES 3.4 with legacy path-style calls',
      { GHES_VERSION: '3.4', GHES_API_STYLE: 'legacy' },
      'GHES_API_STYLE',
    ],
    [
      'GHES 2.19 with body-style calls',
      { GHES_VERSION: '2.19', GHES_API_STYLE: 'body' },
      'GHES_API_STYLE',
    ],
    [
      'a missing client secret',
      { DEMO_OAUTH_CLIENT_SECRET: undefined },
      'DEMO_OAUTH_CLIENT_SECRET',
    ],
  ])(
    '%s: 500 misconfigured on every route, the reason only in the log',
    async (_name, patch, named) => {
      const gw = await createTestGateway();
      const env: Record<string, unknown> = { ...gw.vars };
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
      const built = buildGateway(env as Env);
      expect(built.ok).toBe(false);

      const lines: string[] = [];
      vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
      const secrets = secretsOf(gw);
      for (const [path, init] of [
        ['/healthz', {}],
        [
          '/v1/apps/demo-oauth/token/check',
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${await gw.caller()}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ access_token: seedTokens(gw).octocatOauth }),
          },
        ],
      ] as const) {
        const res = await createWorker({ clock: gw.clock }).fetch(
          new Request(`https://gateway.test${path}`, init),
          env as Env,
          ctx,
        );
        const text = await res.text();
        expect(res.status).toBe(500);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect((JSON.parse(text) as { code: string }).code).toBe('misconfigured');
        expect(text).not.toContain(named);
        for (const s of [...secrets, seedTokens(gw).octocatOauth]) expect(text).not.toContain(s);
      }
      // No GHES call: the gateway never got that far.
      expect(gw.outbound).toEqual([]);
      expect(lines.some((l) => l.includes('config.invalid') && l.includes(named))).toBe(true);
      for (const l of lines) for (const s of secrets) expect(l).not.toContain(s);
    },
  );

  it('a valid configuration through the worker entry answers /healthz', async () => {
    const gw = await createTestGateway();
    const res = await createWorker({ clock: gw.clock }).fetch(
      new Request('https://gateway.test/healthz'),
      gw.vars as Env,
      ctx,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});
