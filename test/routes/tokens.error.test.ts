/**
 * Every error mapping of the token API, through a real gateway and the GHES emulator: input the
 * gateway refuses before any GHES call (asserted with the emulator's call counts), and each GHES
 * outcome (404, 422, rejected Basic credentials, timeout, 5xx, rate limits, lost answers) turned
 * into its RFC 9457 problem.
 */
import { describe, expect, it } from 'vitest';
import {
  createTestGateway,
  type TestGateway,
  type TestGatewayOptions,
  seedTokens,
} from '../helpers/gateway';

const OAUTH = 'demo-oauth';
const GH_APP = 'demo-github-app';

type Op = 'token/check' | 'token/reset' | 'token/scoped' | 'token/delete' | 'grant/delete';
const path = (app: string, op: Op) => `/v1/apps/${app}/${op}`;
const SIMPLE_OPS = ['token/check', 'token/reset', 'token/delete', 'grant/delete'] as const;
const ALL_OPS = [...SIMPLE_OPS, 'token/scoped'] as const;

interface Problem {
  type: string;
  code: string;
  title: string;
  status: number;
  detail?: string;
  request_id?: string;
  errors?: { field: string; message: string }[];
  upstream_errors?: Record<string, string>[];
}

/** Asserts an RFC 9457 answer with the given status and stable code, and returns its body. */
async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = JSON.parse(text) as Problem;
  expect(body.type).toBe(`urn:ghes-token-gateway:problem:${code}`);
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  expect(body.request_id).toBe(res.headers.get('x-request-id'));
  return body;
}

function totalCalls(gw: TestGateway): number {
  return Object.values(gw.emulator.calls()).reduce((a, b) => a + b, 0);
}

/** A body that is valid for `op` (the token decides which app it belongs to). */
function validBody(op: Op, token: string): Record<string, unknown> {
  return op === 'token/scoped'
    ? { access_token: token, target: 'octocat' }
    : { access_token: token };
}

/** The app each operation is exercised on: scoped tokens exist only for GitHub Apps. */
const appFor = (op: Op) => (op === 'token/scoped' ? GH_APP : OAUTH);
const tokenFor = (gw: TestGateway, op: Op) =>
  op === 'token/scoped' ? seedTokens(gw).octocatGithubApp : seedTokens(gw).octocatOauth;

/** Short per-attempt timeout and deadline, so timeouts cost ~100 ms of real time. */
const FAST_TIMEOUTS: TestGatewayOptions = {
  vars: { GHES_TIMEOUT_MS: '100', GHES_DEADLINE_MS: '300' },
};

describe('input the gateway refuses before calling GHES', () => {
  it.each(ALL_OPS)('%s: an app that is not configured is 404 unknown-app', async (op) => {
    const gw = await createTestGateway();
    const res = await gw.post(path('no-such-app', op), validBody(op, tokenFor(gw, op)));
    const problem = await expectProblem(res, 404, 'unknown-app');
    expect(problem.detail).toContain('no-such-app');
    expect(totalCalls(gw)).toBe(0);
  });

  it.each(ALL_OPS)('%s: malformed JSON is 400 invalid-request', async (op) => {
    const gw = await createTestGateway();
    for (const body of [
      '{bad',
      '{"access_token": "gho_x"',
      '{"access_token": "gho_x"} trailing',
      '',
    ]) {
      const res = await gw.post(path(appFor(op), op), body);
      await expectProblem(res, 400, 'invalid-request');
    }
    expect(totalCalls(gw)).toBe(0);
  });

  const wrongTypes: [string, unknown, string][] = [
    ['a number', { access_token: 123 }, 'body.access_token'],
    ['null', { access_token: null }, 'body.access_token'],
    ['an array', { access_token: ['gho_x'] }, 'body.access_token'],
    ['an object', { access_token: { token: 'gho_x' } }, 'body.access_token'],
    ['missing', {}, 'body.access_token'],
    ['empty', { access_token: '' }, 'body.access_token'],
    ['with a space', { access_token: 'gho_abc def' }, 'body.access_token'],
    ['with CR/LF', { access_token: 'gho_abc\r\nx-injected: 1' }, 'body.access_token'],
    ['non-ASCII', { access_token: 'gho_ä' }, 'body.access_token'],
    ['over 255 characters', { access_token: `gho_${'a'.repeat(300)}` }, 'body.access_token'],
  ];
  it.each(SIMPLE_OPS)(
    '%s: wrong types and bad tokens are 422 naming body.access_token',
    async (op) => {
      const gw = await createTestGateway();
      for (const [name, body, field] of wrongTypes) {
        const res = await gw.post(path(OAUTH, op), body);
        const problem = await expectProblem(res, 422, 'validation-failed');
        expect(
          problem.errors?.map((e) => e.field),
          name,
        ).toContain(field);
        expect(problem.detail).toMatch(new RegExp(`^${field.replace('.', '\\.')}`));
      }
      expect(totalCalls(gw)).toBe(0);
    },
  );

  it.each(ALL_OPS)('%s: an unknown field is 422 naming it, without echoing values', async (op) => {
    const gw = await createTestGateway();
    const token = tokenFor(gw, op);
    const res = await gw.post(path(appFor(op), op), {
      ...validBody(op, token),
      scopes_override: 'admin:enterprise',
    });
    const problem = await expectProblem(res, 422, 'validation-failed');
    const error = problem.errors?.find((e) => e.field === 'body');
    expect(error?.message).toContain('scopes_override');
    expect(JSON.stringify(problem)).not.toContain('admin:enterprise');
    expect(JSON.stringify(problem)).not.toContain(token);
    expect(totalCalls(gw)).toBe(0);
  });

  it.each([
    ['an array', []],
    ['a string', '"gho_x"'],
    ['null', 'null'],
    ['a number', '42'],
  ])('a JSON body that is %s is 422 naming the body', async (_name, body) => {
    const gw = await createTestGateway();
    const res = await gw.post(path(OAUTH, 'token/check'), body);
    const problem = await expectProblem(res, 422, 'validation-failed');
    expect(problem.errors?.[0]?.field).toBe('body');
    expect(totalCalls(gw)).toBe(0);
  });

  it.each(ALL_OPS)('%s: a body over 16 KiB is 413', async (op) => {
    const gw = await createTestGateway();
    const body = JSON.stringify({ access_token: tokenFor(gw, op), padding: 'x'.repeat(16 * 1024) });
    await expectProblem(await gw.post(path(appFor(op), op), body), 413, 'payload-too-large');
    expect(totalCalls(gw)).toBe(0);
  });

  it('a body of exactly 16 KiB is read (and then refused for its unknown field, not its size)', async () => {
    const gw = await createTestGateway();
    const prefix = JSON.stringify({ access_token: 'gho_x', padding: '' });
    const body = `${prefix.slice(0, -2)}${'x'.repeat(16 * 1024 - prefix.length)}"}`;
    expect(new TextEncoder().encode(body).length).toBe(16 * 1024);
    await expectProblem(await gw.post(path(OAUTH, 'token/check'), body), 422, 'validation-failed');
  });

  it('an oversized body without content-length (streamed) is 413 too', async () => {
    const gw = await createTestGateway();
    const chunk = new TextEncoder().encode(
      `{"access_token":"gho_x","padding":"${'x'.repeat(20_000)}"}`,
    );
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await gw.request(path(OAUTH, 'token/check'), {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.caller()}`, 'content-type': 'application/json' },
      body: stream,
      // @ts-expect-error -- `duplex` is required for a streamed request body but not yet in the DOM types.
      duplex: 'half',
    });
    await expectProblem(res, 413, 'payload-too-large');
    expect(totalCalls(gw)).toBe(0);
  });

  it.each(ALL_OPS)('%s: a body that is not application/json is 415', async (op) => {
    const gw = await createTestGateway();
    const json = JSON.stringify(validBody(op, tokenFor(gw, op)));
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json-patch+json',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await gw.post(path(appFor(op), op), json, 'svc-demo', { 'content-type': type });
      await expectProblem(res, 415, 'unsupported-media-type');
    }
    const noType = await gw.request(path(appFor(op), op), {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.caller()}` },
      body: new TextEncoder().encode(json),
    });
    await expectProblem(noType, 415, 'unsupported-media-type');
    expect(totalCalls(gw)).toBe(0);
  });

  it('accepts application/json with a charset parameter', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(
      path(OAUTH, 'token/check'),
      { access_token: seedTokens(gw).octocatOauth },
      'svc-demo',
      {
        'content-type': 'application/json; charset=utf-8',
      },
    );
    expect(res.status).toBe(200);
  });

  // `..%2f`: an encoded slash stays inside the segment; `%2e%2e` is a dot-segment that URL parsing
  // removes (WHATWG URL), so the request lands on no route at all.
  it.each([
    ['..%2f', '..%2f', 'unknown-app'],
    ['..%2F..%2Fadmin', '..%2F..%2Fadmin', 'unknown-app'],
    ['%2e%2e', '%2e%2e', 'not-found'],
    ['.%2e', '.%2e', 'not-found'],
    ['DEMO-OAUTH', 'DEMO-OAUTH', 'unknown-app'],
    ['Demo-Oauth', 'Demo-Oauth', 'unknown-app'],
    ['demo-oauth%00', 'demo-oauth%00', 'unknown-app'],
    ['demo-oauth%20', 'demo-oauth%20', 'unknown-app'],
    ['demo_oauth', 'demo_oauth', 'unknown-app'],
    ['-demo-oauth', '-demo-oauth', 'unknown-app'],
    ['5,000 × a', 'a'.repeat(5000), 'unknown-app'],
  ])('{app} = %s is 404 with no GHES call', async (_label, app, code) => {
    const gw = await createTestGateway();
    for (const op of ALL_OPS) {
      const res = await gw.post(path(app, op), validBody(op, tokenFor(gw, op)));
      const problem = await expectProblem(res, 404, code);
      // A 5,000-character app name is not echoed back in full.
      expect(JSON.stringify(problem).length).toBeLessThan(1000);
    }
    expect(totalCalls(gw)).toBe(0);
  });
});

describe('scoped-token input checked before any GHES call', () => {
  const parent = 'ghu_16C7e42F292c6912E7710c838347Ae178B4a';
  const cases: [string, Record<string, unknown>, string][] = [
    ['both target and target_id', { target: 'octocat', target_id: 1 }, 'body.target'],
    ['neither target nor target_id', { repositories: ['hello-world'] }, 'body.target'],
    [
      'both repository lists',
      { target: 'octocat', repositories: ['hello-world'], repository_ids: [1296269] },
      'body.repositories',
    ],
    [
      'an unknown permission name',
      { target: 'octocat', permissions: { root_access: 'write' } },
      'body.permissions.root_access',
    ],
    [
      'a bad permission level',
      { target: 'octocat', permissions: { contents: 'admin' } },
      'body.permissions.contents',
    ],
    [
      'a permission level of the wrong type',
      { target: 'octocat', permissions: { contents: 1 } },
      'body.permissions.contents',
    ],
    ['target_id as a string', { target_id: '1' }, 'body.target_id'],
    ['a negative target_id', { target_id: -1 }, 'body.target_id'],
    [
      'a fractional repository id',
      { target: 'octocat', repository_ids: [1.5] },
      'body.repository_ids.0',
    ],
    ['an empty target', { target: '' }, 'body.target'],
    [
      'repositories as a string',
      { target: 'octocat', repositories: 'hello-world' },
      'body.repositories',
    ],
    [
      '501 repositories',
      { target: 'octocat', repositories: Array.from({ length: 501 }, (_, i) => `r${i}`) },
      'body.repositories',
    ],
  ];
  it.each(cases)('%s → 422 naming the field', async (_name, extra, field) => {
    const gw = await createTestGateway();
    const res = await gw.post(path(GH_APP, 'token/scoped'), { access_token: parent, ...extra });
    const problem = await expectProblem(res, 422, 'validation-failed');
    expect(problem.errors?.map((e) => e.field)).toContain(field);
    expect(JSON.stringify(problem)).not.toContain(parent);
    expect(totalCalls(gw)).toBe(0);
  });

  it('a permission GHES 3.0 did not know yet is refused for a 3.0 gateway', async () => {
    // `codespaces` arrived long after 3.0 (see the generated permission table).
    const gw = await createTestGateway({ version: '3.0' });
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: parent,
      target: 'octocat',
      permissions: { codespaces: 'read' },
    });
    const problem = await expectProblem(res, 422, 'validation-failed');
    expect(problem.errors?.[0]?.field).toBe('body.permissions.codespaces');
    expect(problem.detail).toContain('3.0');
    expect(totalCalls(gw)).toBe(0);
  });

  it('a 10,000-item repository list is 413 and never reaches GHES', async () => {
    const gw = await createTestGateway();
    for (const extra of [
      { repositories: Array.from({ length: 10_000 }, (_, i) => `repo-${i}`) },
      { repository_ids: Array.from({ length: 10_000 }, (_, i) => i + 1) },
    ]) {
      const res = await gw.post(path(GH_APP, 'token/scoped'), {
        access_token: parent,
        target: 'octocat',
        ...extra,
      });
      await expectProblem(res, 413, 'payload-too-large');
    }
    expect(totalCalls(gw)).toBe(0);
  });

  it('with a body limit that admits it, a 10,000-item list is 422 naming the list', async () => {
    const gw = await createTestGateway({ vars: { MAX_BODY_BYTES: '1048576' } });
    for (const [extra, field] of [
      [
        { repositories: Array.from({ length: 10_000 }, (_, i) => `repo-${i}`) },
        'body.repositories',
      ],
      [{ repository_ids: Array.from({ length: 10_000 }, (_, i) => i + 1) }, 'body.repository_ids'],
    ] as const) {
      const res = await gw.post(path(GH_APP, 'token/scoped'), {
        access_token: parent,
        target: 'octocat',
        ...extra,
      });
      const problem = await expectProblem(res, 422, 'validation-failed');
      expect(problem.errors?.map((e) => e.field)).toContain(field);
      // One error for the list, not one per item.
      expect(problem.errors?.length).toBeLessThan(5);
    }
    expect(totalCalls(gw)).toBe(0);
  });

  it('a scoped token for an OAuth app is 422 unsupported-operation', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(path(OAUTH, 'token/scoped'), {
      access_token: seedTokens(gw).octocatOauth,
      target: 'octocat',
    });
    const problem = await expectProblem(res, 422, 'unsupported-operation');
    expect(problem.detail).toContain('OAuth app');
    expect(totalCalls(gw)).toBe(0);
  });

  it('a scoped token on GHES 2.22 (no scoped endpoint before 3.0) is 422 unsupported-operation', async () => {
    const gw = await createTestGateway({ version: '2.22' });
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: seedTokens(gw).octocatGithubApp,
      target: 'octocat',
      permissions: { contents: 'read' },
    });
    const problem = await expectProblem(res, 422, 'unsupported-operation');
    expect(problem.detail).toContain('2.22');
    expect(totalCalls(gw)).toBe(0);
  });
});

describe('GHES outcomes', () => {
  it.each(ALL_OPS)('%s: a token GHES does not know is 404 token-not-found', async (op) => {
    const gw = await createTestGateway();
    const unknown =
      op === 'token/scoped'
        ? 'ghu_000000000000000000000000000000000000'
        : 'gho_000000000000000000000000000000000000';
    const res = await gw.post(path(appFor(op), op), validBody(op, unknown));
    const problem = await expectProblem(res, 404, 'token-not-found');
    expect(JSON.stringify(problem)).not.toContain(unknown);
    expect(totalCalls(gw)).toBe(1);
  });

  it('a token of another app is 404 for this app', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(path(OAUTH, 'token/check'), {
      access_token: seedTokens(gw).octocatGithubApp,
    });
    await expectProblem(res, 404, 'token-not-found');
  });

  it('a token revoked directly in GHES (not through the gateway) checks 404 once it is not cached', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).monalisaOauth;
    expect(gw.emulator.revokeToken(token)).toBe(true);
    await expectProblem(
      await gw.post(path(OAUTH, 'token/check'), { access_token: token }),
      404,
      'token-not-found',
    );
  });

  it('GHES 422 is 422 keeping GitHub’s message and field errors', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: seedTokens(gw).octocatGithubApp,
      target: 'ghost-account',
    });
    const problem = await expectProblem(res, 422, 'upstream-validation-failed');
    expect(problem.detail).toBe('Validation Failed');
    expect(problem.upstream_errors).toEqual([
      {
        resource: 'ScopedAccessToken',
        field: 'target',
        code: 'invalid',
        message: 'Target ghost-account was not found.',
      },
    ]);
    expect(gw.emulator.calls().scoped).toBe(1);
  });

  it('GHES 422 for permissions the installation lacks keeps its message', async () => {
    const gw = await createTestGateway();
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: seedTokens(gw).octocatGithubApp,
      target: 'octo-org',
      permissions: { contents: 'write' },
    });
    const problem = await expectProblem(res, 422, 'upstream-validation-failed');
    expect(problem.upstream_errors?.[0]?.message).toBe(
      'The permissions requested are not granted to this installation.',
    );
  });

  it.each(ALL_OPS)(
    '%s: GHES answering 401 to our Basic credentials is 502 upstream-credentials-rejected',
    async (op) => {
      const app = appFor(op);
      const binding = `${app.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`;
      const gw = await createTestGateway({
        badCredentialsStatus: 401,
        vars: { [binding]: 'a-wrong-client-secret-0123456789abcdef' },
      });
      const res = await gw.post(path(app, op), validBody(op, tokenFor(gw, op)));
      const problem = await expectProblem(res, 502, 'upstream-credentials-rejected');
      expect(JSON.stringify(problem)).not.toContain('a-wrong-client-secret');
      // Not retried: another attempt with the same secret cannot succeed.
      expect(totalCalls(gw)).toBe(1);
    },
  );

  it.each(ALL_OPS)(
    '%s: a plain GHES 403 (not a rate limit) is 502 upstream-credentials-rejected',
    async (op) => {
      const gw = await createTestGateway();
      gw.emulator.addFault({ status: 403 });
      const res = await gw.post(path(appFor(op), op), validBody(op, tokenFor(gw, op)));
      await expectProblem(res, 502, 'upstream-credentials-rejected');
      expect(totalCalls(gw)).toBe(1);
    },
  );

  it('rejected credentials are not cached as an answer about the token', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    gw.emulator.addFault({ status: 403, operation: 'check', times: 1 });
    await expectProblem(
      await gw.post(path(OAUTH, 'token/check'), { access_token: token }),
      502,
      'upstream-credentials-rejected',
    );
    expect((await gw.post(path(OAUTH, 'token/check'), { access_token: token })).status).toBe(200);
    expect(gw.emulator.calls().check).toBe(2);
  });

  it('check: a hanging GHES is 504 after GHES_TIMEOUT_MS, and the failure is not cached', async () => {
    const gw = await createTestGateway(FAST_TIMEOUTS);
    const token = seedTokens(gw).octocatOauth;
    gw.emulator.addFault({ hang: true, operation: 'check', times: 1 });
    const res = await gw.post(path(OAUTH, 'token/check'), { access_token: token });
    await expectProblem(res, 504, 'upstream-timeout');
    expect(gw.emulator.hangingRequests()).toBe(0);
    expect((await gw.post(path(OAUTH, 'token/check'), { access_token: token })).status).toBe(200);
  });

  it('delete: GHES latency beyond GHES_TIMEOUT_MS is 504', async () => {
    const gw = await createTestGateway(FAST_TIMEOUTS);
    gw.emulator.addFault({ latency_ms: 5000, operation: 'delete' });
    const res = await gw.post(path(OAUTH, 'token/delete'), {
      access_token: seedTokens(gw).octocatOauth,
    });
    await expectProblem(res, 504, 'upstream-timeout');
  });

  it('grant delete: a hanging GHES is 504', async () => {
    const gw = await createTestGateway(FAST_TIMEOUTS);
    gw.emulator.addFault({ hang: true, operation: 'grant' });
    const res = await gw.post(path(OAUTH, 'grant/delete'), {
      access_token: seedTokens(gw).octocatOauth,
    });
    await expectProblem(res, 504, 'upstream-timeout');
  });

  it.each(['token/reset', 'token/scoped'] as const)(
    '%s: a timeout on a call that mints a token is 502 upstream-outcome-unknown, never retried',
    async (op) => {
      const gw = await createTestGateway(FAST_TIMEOUTS);
      const operation = op === 'token/reset' ? 'reset' : 'scoped';
      gw.emulator.addFault({ hang: true, operation });
      const res = await gw.post(path(appFor(op), op), validBody(op, tokenFor(gw, op)));
      await expectProblem(res, 502, 'upstream-outcome-unknown');
      expect(gw.emulator.calls()[operation]).toBe(1);
    },
  );

  it.each([500, 502, 503, 504])(
    'check: GHES %i is 502 upstream-error after 3 attempts',
    async (status) => {
      const gw = await createTestGateway();
      gw.emulator.addFault({ status, operation: 'check' });
      const res = await gw.post(path(OAUTH, 'token/check'), {
        access_token: seedTokens(gw).octocatOauth,
      });
      const problem = await expectProblem(res, 502, 'upstream-error');
      // A proxy's HTML page is not passed on.
      expect(JSON.stringify(problem)).not.toContain('nginx');
      expect(gw.emulator.calls().check).toBe(3);
    },
  );

  it('check: a GHES 503 that clears before the last attempt is answered 200', async () => {
    const gw = await createTestGateway();
    gw.emulator.addFault({ status: 503, operation: 'check', times: 2 });
    const res = await gw.post(path(OAUTH, 'token/check'), {
      access_token: seedTokens(gw).octocatOauth,
    });
    expect(res.status).toBe(200);
    expect(gw.emulator.calls().check).toBe(3);
  });

  it.each([
    ['token/delete', 'delete'],
    ['grant/delete', 'grant'],
  ] as const)(
    '%s: GHES 503 is 502 upstream-error after 3 attempts (idempotent)',
    async (op, operation) => {
      const gw = await createTestGateway();
      gw.emulator.addFault({ status: 503, operation });
      const res = await gw.post(path(OAUTH, op), { access_token: seedTokens(gw).octocatOauth });
      await expectProblem(res, 502, 'upstream-error');
      expect(gw.emulator.calls()[operation]).toBe(3);
    },
  );

  it.each([
    ['token/reset', 'reset'],
    ['token/scoped', 'scoped'],
  ] as const)(
    '%s: GHES 503 is 502 upstream-outcome-unknown after exactly one attempt',
    async (op, operation) => {
      const gw = await createTestGateway();
      gw.emulator.addFault({ status: 503, operation });
      const res = await gw.post(path(appFor(op), op), validBody(op, tokenFor(gw, op)));
      await expectProblem(res, 502, 'upstream-outcome-unknown');
      expect(gw.emulator.calls()[operation]).toBe(1);
    },
  );

  it.each(ALL_OPS)(
    '%s: GHES 429 is 429 with Retry-After and the x-ratelimit-* headers',
    async (op) => {
      const gw = await createTestGateway();
      gw.emulator.addFault({ status: 429, retry_after: 2 });
      const res = await gw.post(path(appFor(op), op), validBody(op, tokenFor(gw, op)));
      const problem = await expectProblem(res, 429, 'upstream-rate-limited');
      expect(problem.detail).toContain('2 s');
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(res.headers.get('x-ratelimit-limit')).toBe('5000');
      expect(res.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
      expect(res.headers.get('x-ratelimit-resource')).toBe('core');
    },
  );

  it.each(ALL_OPS)('%s: GHES’s secondary-limit 403 is 429 with Retry-After', async (op) => {
    const gw = await createTestGateway();
    gw.emulator.addFault({ status: 403, secondary_rate_limit: true, retry_after: 7 });
    const res = await gw.post(path(appFor(op), op), validBody(op, tokenFor(gw, op)));
    await expectProblem(res, 429, 'upstream-rate-limited');
    expect(res.headers.get('retry-after')).toBe('7');
  });

  it('check: a rate limit is retried after Retry-After (on the gateway clock) and not cached', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    gw.emulator.addFault({ status: 429, retry_after: 1, operation: 'check', times: 1 });
    const res = await gw.post(path(OAUTH, 'token/check'), { access_token: token });
    expect(res.status).toBe(200);
    expect(gw.emulator.calls().check).toBe(2);
    expect(gw.sleeps.some((ms) => ms >= 1000)).toBe(true);
  });

  it('reset: commit-then-fail is 502 upstream-outcome-unknown after one reset; the old token is not reported active', async () => {
    const gw = await createTestGateway();
    const old = seedTokens(gw).octocatOauth;
    // Cached as active before the reset.
    expect((await gw.post(path(OAUTH, 'token/check'), { access_token: old })).status).toBe(200);
    gw.emulator.addFault({ commit_then_fail: true, status: 502, operation: 'reset', times: 1 });

    const res = await gw.post(path(OAUTH, 'token/reset'), { access_token: old });
    const problem = await expectProblem(res, 502, 'upstream-outcome-unknown');
    expect(JSON.stringify(problem)).not.toContain(old);
    expect(gw.emulator.calls().reset).toBe(1);

    const check = await gw.post(path(OAUTH, 'token/check'), { access_token: old });
    await expectProblem(check, 404, 'token-not-found');
  });

  it('reset: a dropped connection after the commit is 502 upstream-outcome-unknown, one reset', async () => {
    const gw = await createTestGateway();
    const old = seedTokens(gw).octocatOauth;
    gw.emulator.addFault({ commit_then_fail: true, drop: true, operation: 'reset', times: 1 });
    await expectProblem(
      await gw.post(path(OAUTH, 'token/reset'), { access_token: old }),
      502,
      'upstream-outcome-unknown',
    );
    expect(gw.emulator.calls().reset).toBe(1);
    await expectProblem(
      await gw.post(path(OAUTH, 'token/check'), { access_token: old }),
      404,
      'token-not-found',
    );
  });

  it('delete: commit-then-fail is retried; the repeat 404 means the first attempt worked (204)', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    expect((await gw.post(path(OAUTH, 'token/check'), { access_token: token })).status).toBe(200);
    gw.emulator.addFault({ commit_then_fail: true, status: 502, operation: 'delete', times: 1 });
    const res = await gw.post(path(OAUTH, 'token/delete'), { access_token: token });
    expect(res.status).toBe(204);
    expect(gw.emulator.calls().delete).toBe(2);
    await expectProblem(
      await gw.post(path(OAUTH, 'token/check'), { access_token: token }),
      404,
      'token-not-found',
    );
  });

  it('delete: a failure with an unknown outcome leaves no active cache entry behind', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    expect((await gw.post(path(OAUTH, 'token/check'), { access_token: token })).status).toBe(200);
    gw.emulator.addFault({ commit_then_fail: true, status: 503, operation: 'delete' });
    await expectProblem(
      await gw.post(path(OAUTH, 'token/delete'), { access_token: token }),
      502,
      'upstream-error',
    );
    await expectProblem(
      await gw.post(path(OAUTH, 'token/check'), { access_token: token }),
      404,
      'token-not-found',
    );
  });

  // The tombstone an unclear failure leaves is the gateway's fail-closed answer for checks, not
  // knowledge about GHES: a revocation asked for afterwards must still reach GHES.
  it.each([
    ['token/delete', 'delete', 'upstream-error'],
    ['token/reset', 'reset', 'upstream-outcome-unknown'],
  ] as const)(
    'grant delete after an unclear %s failure still revokes the grant at GHES',
    async (op, operation, code) => {
      const gw = await createTestGateway();
      const token = seedTokens(gw).octocatOauth;
      // A 500 before GHES handled anything: the token stays live there.
      gw.emulator.addFault({ status: 500, operation });
      await expectProblem(await gw.post(path(OAUTH, op), { access_token: token }), 502, code);
      gw.emulator.clearFaults();

      const res = await gw.post(path(OAUTH, 'grant/delete'), { access_token: token });
      expect(res.status).toBe(204);
      expect(gw.emulator.calls().grant).toBe(1);
      // The token is no longer live at GHES (revokeToken reports whether it was).
      expect(gw.emulator.revokeToken(token)).toBe(false);
    },
  );

  it('a GHES redirect is never followed: 502 upstream-error', async () => {
    const gw = await createTestGateway();
    gw.emulator.addFault({ status: 302, location: 'https://evil.test/steal', operation: 'check' });
    const res = await gw.post(path(OAUTH, 'token/check'), {
      access_token: seedTokens(gw).octocatOauth,
    });
    const problem = await expectProblem(res, 502, 'upstream-error');
    expect(JSON.stringify(problem)).not.toContain('evil.test');
    expect(res.headers.get('location')).toBeNull();
  });
});
