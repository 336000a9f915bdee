/**
 * A revocation through the gateway is never lost (issue 9, part 2), through the whole gateway in
 * front of the GHES emulator: whenever GHES may have carried out a reset, delete or grant delete,
 * and whenever GHES says the token does not exist, the gateway stops vouching for the token
 * before it answers — on /v1 check, /introspect and /forward-auth alike.
 */
import { describe, expect, it } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../src/lib/errors';
import type { FaultSpec } from '../../emulator/faults';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { record } from '../hostile/record';
import { forwardAuth, introspect } from '../introspection/requests';

const OAUTH = 'demo-oauth';
const path = (op: string) => `/v1/apps/${OAUTH}/${op}`;
const CHECK = path('token/check');

type Style = { version: string; apiStyle: 'body' | 'legacy'; prefix: '' | 'legacy_' };
const STYLES: Style[] = [
  { version: '3.22', apiStyle: 'body', prefix: '' },
  { version: '3.3', apiStyle: 'legacy', prefix: 'legacy_' },
];

async function gateway(style: Style = STYLES[0]!): Promise<TestGateway> {
  return createTestGateway({ version: style.version, apiStyle: style.apiStyle });
}

function mint(gw: TestGateway, login = 'octocat'): string {
  return gw.emulator.createToken({ app: OAUTH, login }).token;
}

function checks(gw: TestGateway, style: Style = STYLES[0]!): number {
  return gw.emulator.calls()[`${style.prefix}check`];
}

async function problem(res: Response): Promise<{ status: number; code: string }> {
  expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const body = (await res.json()) as { code: string };
  return { status: res.status, code: body.code };
}

/** Caches `t` as active, the way a resource server's traffic would. */
async function warm(gw: TestGateway, t: string): Promise<void> {
  expect((await gw.post(CHECK, { access_token: t })).status).toBe(200);
  await gw.settle();
}

/** Every answer the gateway gives about `t` says "not active", and none of them asks GHES. */
async function expectNotVouchedFor(gw: TestGateway, t: string, style?: Style): Promise<void> {
  const before = checks(gw, style);
  expect(await problem(await gw.post(CHECK, { access_token: t }))).toEqual({
    status: 404,
    code: 'token-not-found',
  });
  const intro = await introspect(gw, { token: t });
  expect({ status: intro.status, body: await intro.text() }).toEqual({
    status: 200,
    body: '{"active":false}',
  });
  expect((await forwardAuth(gw, '/forward-auth', t)).status).toBe(401);
  expect(checks(gw, style)).toBe(before);
}

async function expectActive(gw: TestGateway, t: string): Promise<void> {
  const intro = await introspect(gw, { token: t });
  expect(await intro.json()).toMatchObject({ active: true });
}

/** A retry answer that GHES refuses with, after the first attempt's answer was lost. */
const REFUSALS: Array<[string, Omit<FaultSpec, 'operation'>, number, string]> = [
  ['429', { status: 429, retry_after: 60 }, 429, 'upstream-rate-limited'],
  [
    'secondary-limit 403',
    { status: 403, secondary_rate_limit: true, retry_after: 60 },
    429,
    'upstream-rate-limited',
  ],
  [
    'primary-limit 403',
    { status: 403, primary_rate_limit: true, retry_after: 60 },
    429,
    'upstream-rate-limited',
  ],
  ['401', { status: 401 }, 502, 'upstream-credentials-rejected'],
];
const LOST: Array<[string, Omit<FaultSpec, 'operation'>]> = [
  ['502', { commit_then_fail: true, status: 502 }],
  ['a dropped connection', { commit_then_fail: true, drop: true }],
];

/** Every (lost answer, refusal on the retry) pair. */
const AMBIGUOUS_THEN_REFUSED = LOST.flatMap(([lostName, lost]) =>
  REFUSALS.map(([refusal, fault, status, code]) => ({
    name: `${lostName}, then ${refusal}`,
    lost,
    fault,
    status,
    code,
  })),
);

describe('(a) GHES applied the revocation, lost the answer, then refused the retry', () => {
  for (const style of STYLES) {
    it(`${style.apiStyle} delete: the refusal is answered, and the token is never reported active again`, async ({
      task,
    }) => {
      record(task, {
        area: 'faults',
        kind: `delete committed by GHES, answer lost (502 / dropped), retry refused (429 / 403 limits / 401), ${style.apiStyle} style`,
        cases: AMBIGUOUS_THEN_REFUSED.length,
        expected:
          "GHES's refusal passed on; token then 404 / inactive / denied without a GHES call",
      });
      for (const c of AMBIGUOUS_THEN_REFUSED) {
        const gw = await gateway(style);
        const t = mint(gw);
        await warm(gw, t);
        const op = `${style.prefix}delete` as const;
        gw.emulator.setFaults(
          { operation: op, times: 1, ...c.lost },
          { operation: op, ...c.fault },
        );
        const res = await gw.post(path('token/delete'), { access_token: t });
        expect(await problem(res), c.name).toEqual({ status: c.status, code: c.code });
        expect(gw.emulator.calls()[op], c.name).toBe(2);
        expect(gw.emulator.state.tokens.has(t), c.name).toBe(false);
        gw.emulator.clearFaults();
        await expectNotVouchedFor(gw, t, style);
      }
    });

    it(`${style.apiStyle} grant delete: the refusal is answered, and no token of that user stays active`, async ({
      task,
    }) => {
      record(task, {
        area: 'faults',
        kind: `grant delete committed by GHES, answer lost (502 / dropped), retry refused (429 / 403 limits / 401), ${style.apiStyle} style`,
        cases: AMBIGUOUS_THEN_REFUSED.length,
        expected:
          "GHES's refusal passed on; the token and its user's other tokens never active again; other users' untouched",
      });
      for (const c of AMBIGUOUS_THEN_REFUSED) {
        const gw = await gateway(style);
        const t = mint(gw);
        const sibling = mint(gw);
        const stranger = mint(gw, 'monalisa');
        for (const x of [t, sibling, stranger]) await warm(gw, x);
        const op = `${style.prefix}grant` as const;
        gw.emulator.setFaults(
          { operation: op, times: 1, ...c.lost },
          { operation: op, ...c.fault },
        );
        const res = await gw.post(path('grant/delete'), { access_token: t });
        expect(await problem(res), c.name).toEqual({ status: c.status, code: c.code });
        expect(gw.emulator.state.tokens.has(sibling), c.name).toBe(false);
        gw.emulator.clearFaults();
        await expectNotVouchedFor(gw, t, style);
        // The sibling's cached answer no longer counts: GHES is asked, and says 404.
        const before = checks(gw, style);
        const intro = await introspect(gw, { token: sibling });
        expect(await intro.json(), c.name).toEqual({ active: false });
        expect(checks(gw, style), c.name).toBe(before + 1);
        // Another user's token is untouched and still answered from the cache.
        await expectActive(gw, stranger);
        expect(checks(gw, style), c.name).toBe(before + 1);
      }
    });
  }

  it('a 429 on the first attempt (GHES refused, nothing applied) leaves the cached answer alone', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'delete refused with 429 on the first attempt (nothing applied)',
      cases: 1,
      expected: '429 passed on; token still live and still answered from the cache',
    });
    const gw = await gateway();
    const t = mint(gw);
    await warm(gw, t);
    gw.emulator.setFaults({ operation: 'delete', status: 429, retry_after: 60 });
    const res = await gw.post(path('token/delete'), { access_token: t });
    expect(await problem(res)).toEqual({ status: 429, code: 'upstream-rate-limited' });
    expect(res.headers.get('retry-after')).toBe('60');
    expect(gw.emulator.state.tokens.has(t)).toBe(true);
    // Still live at GHES, and still answered from the cache: no needless tombstone.
    const check = await gw.post(CHECK, { access_token: t });
    expect(check.status).toBe(200);
    expect(check.headers.get('cache-status')).toMatch(/detail=l1/);
    expect(gw.emulator.calls().check).toBe(1);
  });
});

describe('(b) a token already revoked in GHES, then revoked through the gateway: GHES says 404', () => {
  for (const style of STYLES) {
    it(`${style.apiStyle} delete and reset: 404, and the cached "active" is gone`, async ({
      task,
    }) => {
      const ops = ['token/delete', 'token/reset'] as const;
      record(task, {
        area: 'faults',
        kind: `delete / reset of a token revoked in GHES directly while cached active, ${style.apiStyle} style`,
        cases: ops.length,
        expected: '404 token-not-found; token then 404 / inactive / denied without a GHES call',
      });
      for (const op of ops) {
        const gw = await gateway(style);
        const t = mint(gw);
        await warm(gw, t);
        gw.emulator.revokeToken(t);
        const res = await gw.post(path(op), { access_token: t });
        expect(await problem(res), op).toEqual({ status: 404, code: 'token-not-found' });
        await expectNotVouchedFor(gw, t, style);
      }
    });

    it(`${style.apiStyle} grant delete: 404, the token is gone and its user's cached tokens are re-checked`, async ({
      task,
    }) => {
      record(task, {
        area: 'faults',
        kind: `grant delete of a token revoked in GHES directly while cached active, ${style.apiStyle} style`,
        cases: 1,
        expected:
          "404 token-not-found; token never active again; the user's other tokens re-checked",
      });
      const gw = await gateway(style);
      const t = mint(gw);
      const sibling = mint(gw);
      for (const x of [t, sibling]) await warm(gw, x);
      gw.emulator.revokeToken(t);
      const res = await gw.post(path('grant/delete'), { access_token: t });
      expect(await problem(res)).toEqual({ status: 404, code: 'token-not-found' });
      await expectNotVouchedFor(gw, t, style);
      // GHES revoked only `t`; the sibling is still live there, and is asked about again.
      const before = checks(gw, style);
      await expectActive(gw, sibling);
      expect(checks(gw, style)).toBe(before + 1);
    });
  }
});

/**
 * GHES carries out the operation, then answers with `status` and a body the gateway cannot use.
 * A test-local stand-in for the emulator's `commit_then_fail` with a 2xx status and a raw body.
 */
function commitThenAnswer(gw: TestGateway, method: string, status: number, body: string): void {
  const emulator = gw.emulator as { fetch: typeof fetch };
  const real = emulator.fetch;
  let armed = true;
  emulator.fetch = async (input, init) => {
    const res = await real(input, init);
    if (!armed || (init?.method ?? 'GET') !== method) return res;
    armed = false;
    expect(res.ok).toBe(true);
    return new Response(body, { status, headers: { 'content-type': 'text/html' } });
  };
}

describe('(c) GHES applied it and answered a 2xx the gateway cannot read', () => {
  const ANSWERS = [
    [200, '<html><body>OK</body></html>'],
    [200, '{"token": "gho_trunc'],
    [201, 'null'],
    [200, ''],
  ] as const;

  it('reset: an error, and the old token is not active', async ({ task }) => {
    record(task, {
      area: 'faults',
      kind: 'reset committed by GHES, 2xx answer unreadable (HTML, truncated JSON, null, empty)',
      cases: ANSWERS.length,
      expected: '5xx problem, 1 GHES reset; old token then 404 / inactive / denied',
    });
    for (const [status, body] of ANSWERS) {
      const name = `${status} ${JSON.stringify(body)}`;
      const gw = await gateway();
      const old = mint(gw);
      await warm(gw, old);
      commitThenAnswer(gw, 'PATCH', status, body);
      const res = await gw.post(path('token/reset'), { access_token: old });
      expect(res.status, name).toBeGreaterThanOrEqual(500);
      expect(res.headers.get('content-type'), name).toBe(PROBLEM_CONTENT_TYPE);
      expect(gw.emulator.calls().reset, name).toBe(1);
      expect(gw.emulator.state.tokens.has(old), name).toBe(false);
      await expectNotVouchedFor(gw, old);
    }
  });

  it('delete answered 200 with an HTML page: 502, and the token is not active', async ({
    task,
  }) => {
    record(task, {
      area: 'faults',
      kind: 'delete committed by GHES, 2xx answer unreadable (HTML)',
      cases: 1,
      expected: '502 upstream-error; token then 404 / inactive / denied',
    });
    const gw = await gateway();
    const t = mint(gw);
    await warm(gw, t);
    commitThenAnswer(gw, 'DELETE', 200, '<html>done</html>');
    const res = await gw.post(path('token/delete'), { access_token: t });
    expect(await problem(res)).toEqual({ status: 502, code: 'upstream-error' });
    await expectNotVouchedFor(gw, t);
  });
});

describe('scoped tokens do not revoke their source', () => {
  it('a lost scoped answer leaves the source token active, as it is at GHES', async ({ task }) => {
    record(task, {
      area: 'faults',
      kind: 'scoped token minted by GHES, answer lost: the source token',
      cases: 1,
      expected: '502 upstream-outcome-unknown; the source token still active from the cache',
    });
    const gw = await createTestGateway();
    const src = gw.emulator.createToken({ app: 'demo-github-app', login: 'octocat' }).token;
    const scopedPath = '/v1/apps/demo-github-app/token/scoped';
    const checkPath = '/v1/apps/demo-github-app/token/check';
    expect((await gw.post(checkPath, { access_token: src })).status).toBe(200);
    gw.emulator.setFaults({ operation: 'scoped', commit_then_fail: true, status: 502, times: 1 });
    const res = await gw.post(scopedPath, {
      access_token: src,
      target: 'octocat',
      permissions: { contents: 'read' },
    });
    expect(await problem(res)).toEqual({ status: 502, code: 'upstream-outcome-unknown' });
    expect(gw.emulator.state.tokens.has(src)).toBe(true);
    const check = await gw.post(checkPath, { access_token: src });
    expect(check.status).toBe(200);
    expect(gw.emulator.calls().check).toBe(1);
  });
});
