/**
 * GHES answers that are not GHES's answer, through the whole gateway (buildGateway in front of
 * the emulator's raw-body and generated-body faults): a 2xx whose body is not a usable
 * authorization, or is too large to read, never becomes an answer and is never cached.
 * /v1 answers 502, introspection and forward auth fail closed with 503; a mutation GHES carried
 * out but answered unreadably leaves the old token inactive.
 */
import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../emulator/index';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import {
  CHECK,
  DELETE,
  GH_APP,
  GRANT,
  OAUTH,
  RESET,
  expectProblem as expectGatewayProblem,
  forwardAuth,
  introspect,
  route,
} from '../helpers/gateway-requests';

const MARK = 'HOSTILE_MARK_b41c';

/** A problem answer, which never quotes GHES's hostile body. */
async function expectProblem(
  res: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  const body = await expectGatewayProblem(res, status, code);
  expect(JSON.stringify(body)).not.toContain(MARK);
  return body;
}

function token(gw: TestGateway, app = OAUTH): string {
  return gw.emulator.createToken({ app, login: 'octocat' }).token;
}

/** A check answer as GHES would send it, with `fields` changed. */
function checkAnswer(gw: TestGateway, t: string, fields: Record<string, unknown>): string {
  const app = gw.apps.find((a) => a.name === OAUTH);
  return JSON.stringify({
    id: 7,
    url: 'https://ghes.test/api/v3/authorizations/7',
    scopes: ['repo'],
    token: t,
    token_last_eight: t.slice(-8),
    hashed_token: null,
    app: { client_id: app?.client_id, name: OAUTH, url: 'https://example.test' },
    note: null,
    note_url: null,
    updated_at: '2026-01-01T00:00:00Z',
    created_at: '2026-01-01T00:00:00Z',
    fingerprint: null,
    user: { login: 'octocat', id: 1 },
    expires_at: null,
    ...fields,
  });
}

/** Bodies a GHES (or a proxy in front of it) might answer 200 with. */
const HOSTILE: ReadonlyArray<{
  name: string;
  body: (gw: TestGateway, t: string) => string;
  content_type?: string;
}> = [
  { name: 'null', body: () => 'null' },
  { name: '[]', body: () => '[]' },
  { name: '{}', body: () => '{}' },
  { name: '"x"', body: () => `"${MARK}"` },
  { name: 'a number', body: () => '1e309' },
  { name: '{"app":{}}', body: () => '{"app":{}}' },
  { name: 'scopes as a string', body: (gw, t) => checkAnswer(gw, t, { scopes: `repo ${MARK}` }) },
  { name: 'user without an id', body: (gw, t) => checkAnswer(gw, t, { user: { login: MARK } }) },
  {
    name: 'a login with CR/LF',
    body: (gw, t) => checkAnswer(gw, t, { user: { login: `a\r\nx-auth-user: ${MARK}`, id: 1 } }),
  },
  { name: 'expires_at garbage', body: (gw, t) => checkAnswer(gw, t, { expires_at: MARK }) },
  { name: 'id as a string', body: (gw, t) => checkAnswer(gw, t, { id: '7' }) },
  {
    name: "another app's client_id",
    body: (gw, t) => checkAnswer(gw, t, { app: { client_id: MARK, name: 'x', url: 'x' } }),
  },
  { name: 'truncated JSON', body: (gw, t) => checkAnswer(gw, t, {}).slice(0, 40) },
  {
    // What a proxy caching POST /token by URL would send: the answer about someone else's token.
    name: "another token's authorization",
    body: (gw, t) => {
      const other = gw.emulator.createToken({ app: OAUTH, login: 'monalisa' }).token;
      return checkAnswer(gw, t, { token: other, token_last_eight: other.slice(-8) });
    },
  },
  {
    name: 'an HTML page',
    body: () => `<html><body>${MARK}: please sign in</body></html>`,
    content_type: 'text/html',
  },
];

function hostileFault(
  row: (typeof HOSTILE)[number],
  gw: TestGateway,
  t: string,
  times: number,
): FaultSpec {
  return {
    operation: 'check',
    status: 200,
    body: row.body(gw, t),
    times,
    ...(row.content_type !== undefined && { content_type: row.content_type }),
  };
}

describe('a 2xx check answer the gateway cannot use', () => {
  it.each(HOSTILE.map((row) => [row.name, row] as const))(
    '%s: /v1 check 502, introspect and forward auth 503, nothing cached',
    async (_name, row) => {
      const gw = await createTestGateway();
      const t = token(gw);
      gw.emulator.setFaults(hostileFault(row, gw, t, 3));

      await expectProblem(await gw.post(CHECK, { access_token: t }), 502, 'upstream-error');
      const i = await expectProblem(await introspect(gw, t), 503, 'upstream-unavailable');
      expect(i['upstream_code']).toBe('upstream-error');
      const f = await expectProblem(await forwardAuth(gw, t), 503, 'upstream-unavailable');
      expect(f['upstream_code']).toBe('upstream-error');
      await gw.settle();
      // Never retried: one GHES call per request.
      expect(gw.emulator.calls().check).toBe(3);

      // Nothing was remembered: the next answers come from GHES itself, and are GHES's.
      expect(gw.emulator.faults()).toEqual([]);
      const ok = await gw.post(CHECK, { access_token: t });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('cache-status')).toMatch(/fwd=uri-miss/);
      expect(await ok.json()).toMatchObject({ user: { login: 'octocat' } });
      expect(gw.emulator.calls().check).toBe(4);
      // Neither the answer nor its values reached the log.
      expect(JSON.stringify(gw.logs)).not.toContain(MARK);
    },
  );
});

describe('an answer over GHES_MAX_RESPONSE_BYTES', () => {
  const HUGE = 400 * 1024 * 1024;

  it('is not read: /v1 check 502, introspection 503, the stream cancelled after about the bound', async () => {
    const gw = await createTestGateway({ vars: { GHES_MAX_RESPONSE_BYTES: '65536' } });
    const t = token(gw);
    gw.emulator.setFaults({ operation: 'check', status: 200, body_bytes: HUGE, times: 2 });
    await expectProblem(await gw.post(CHECK, { access_token: t }), 502, 'upstream-error');
    const i = await expectProblem(await introspect(gw, t), 503, 'upstream-unavailable');
    expect(i['upstream_code']).toBe('upstream-error');
    const streams = gw.emulator.bodyStreams();
    expect(streams).toHaveLength(2);
    for (const s of streams) {
      expect(s.cancelled).toBe(true);
      // The bound plus at most a few of the emulator's 64 KiB chunks, never 400 MB.
      expect(s.sent).toBeLessThanOrEqual(65_536 + 4 * 64 * 1024);
    }
    expect(
      gw.logs.some(
        (r) => r['event'] === 'ghes.call_failed' && /over 65536 bytes/.test(String(r['why'])),
      ),
    ).toBe(true);
    // Not cached: a normal answer is fetched next.
    expect((await gw.post(CHECK, { access_token: t })).status).toBe(200);
    expect(gw.emulator.calls().check).toBe(3);
  });

  it('is bounded at 1 MiB by default', async () => {
    const gw = await createTestGateway();
    const t = token(gw);
    gw.emulator.setFaults({ operation: 'check', status: 200, body_bytes: HUGE, times: 1 });
    await expectProblem(await gw.post(CHECK, { access_token: t }), 502, 'upstream-error');
    const [s] = gw.emulator.bodyStreams();
    expect(s?.cancelled).toBe(true);
    expect(s?.sent).toBeGreaterThan(1024 * 1024);
    expect(s?.sent).toBeLessThanOrEqual(1024 * 1024 + 4 * 64 * 1024);
  });
});

describe('a mutation GHES carried out but answered unreadably', () => {
  const UNREADABLE: ReadonlyArray<{ name: string; fault: Partial<FaultSpec> }> = [
    { name: 'an HTML page', fault: { body: `<html>${MARK}</html>`, content_type: 'text/html' } },
    { name: 'null', fault: { body: 'null' } },
    { name: '{}', fault: { body: '{}' } },
    { name: 'a body over the bound', fault: { body_bytes: 400 * 1024 * 1024 } },
  ];

  it.each(UNREADABLE.map((u) => [u.name, u] as const))(
    'reset answered with %s: 502 outcome-unknown, and the old token is no longer active',
    async (_name, u) => {
      const gw = await createTestGateway();
      const old = token(gw);
      // Cached as active first, so a surviving cache entry would show.
      expect((await gw.post(CHECK, { access_token: old })).status).toBe(200);
      await gw.settle();
      gw.emulator.setFaults({
        operation: 'reset',
        commit_then_fail: true,
        status: 200,
        times: 1,
        ...u.fault,
      });
      const res = await gw.post(RESET, { access_token: old });
      const body = await expectProblem(res, 502, 'upstream-outcome-unknown');
      expect(JSON.stringify(body)).not.toContain(old);
      expect(gw.emulator.calls().reset).toBe(1);
      await gw.settle();
      expect(await (await introspect(gw, old)).json()).toEqual({ active: false });
      await expectProblem(await forwardAuth(gw, old), 401, 'invalid-token');
      await expectProblem(await gw.post(CHECK, { access_token: old }), 404, 'token-not-found');
    },
  );

  it.each([
    ['delete', DELETE, `<html>${MARK}</html>`],
    ['delete', DELETE, '{}'],
    ['grant', GRANT, `<html>${MARK}</html>`],
    ['grant', GRANT, '{"message":"ok"}'],
  ] as const)(
    '%s answered 200 with the body %s: 502, not 204, and the token is no longer active',
    async (op, path, body) => {
      const gw = await createTestGateway();
      const t = token(gw);
      expect((await gw.post(CHECK, { access_token: t })).status).toBe(200);
      await gw.settle();
      gw.emulator.setFaults({
        operation: op,
        commit_then_fail: true,
        status: 200,
        body,
        times: 1,
      });
      await expectProblem(await gw.post(path, { access_token: t }), 502, 'upstream-error');
      expect(gw.emulator.calls()[op]).toBe(1);
      await gw.settle();
      expect(await (await introspect(gw, t)).json()).toEqual({ active: false });
    },
  );

  it('a scoped mint answered with garbage is 502 outcome-unknown after one call', async () => {
    const gw = await createTestGateway();
    gw.emulator.setFaults({
      operation: 'scoped',
      commit_then_fail: true,
      status: 201,
      body: '{"token": 42}',
      times: 1,
    });
    const res = await gw.post(route(GH_APP, 'token/scoped'), {
      access_token: token(gw, GH_APP),
      target: 'octocat',
      permissions: { contents: 'read' },
    });
    await expectProblem(res, 502, 'upstream-outcome-unknown');
    expect(gw.emulator.calls().scoped).toBe(1);
  });
});
