/**
 * The lean pipeline (src/routes/lean.ts) answers the hot routes' cache hits without Hono; for any
 * request it must answer exactly as the app does, and log exactly the same line.
 *
 * Differential property: two gateways from one configuration (pepper, caller keys, apps, clock,
 * emulator), one with the lean pipeline and one without, get the same generated requests — every
 * part of a forward auth or an introspection varied, valid or not — in the same order; status,
 * headers, body and every log line must be equal (request ids normalised where the gateway drew
 * them). Then unit cases: that the pipeline does answer the hits (so the property is not vacuous),
 * that a body it read reaches the app byte for byte, and that it counts its hits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApp, createHotApp, type LeanDispatch } from '../../src/app';
import { gatewayDeps, hotPathsFirst } from '../../src/index';
import type { LeanResult } from '../../src/routes/lean';
import { memoryKv } from '../helpers/memory-kv';
import type { Bindings } from '../../src/config/types';
import type { LogRecord } from '../../src/lib/log';
import { propertyPlan } from '../helpers/fast-check';
import { GATEWAY_URL, createTestGateway, seedTokens, type TestGateway } from '../helpers/gateway';
import { executionContext } from '../helpers/execution-context';

/** A gateway built as src/index.ts builds it, with its own KV and log. */
interface Twin {
  fetch(req: Request): Promise<Response>;
  logs: LogRecord[];
  /** Requests the lean pipeline answered (with `lean`). */
  leanAnswers: number;
}

const ctx = executionContext();

/** `buildGateway`'s composition, from `gw`'s configuration; `lean: false` leaves the pipeline out. */
function twinOf(gw: TestGateway, lean: boolean): Twin {
  const vars = { ...gw.vars, TOKEN_CACHE: memoryKv() } as Bindings;
  const twin: Twin = { fetch: async () => Response.error(), logs: [], leanAnswers: 0 };
  const log = (r: LogRecord) => void twin.logs.push(r);
  const deps = gatewayDeps(vars, {
    fetch: (input, init) => gw.emulator.fetch(input, init),
    clock: gw.clock,
    log,
  });
  if (!deps.ok) throw new Error(deps.error.join('; '));
  const hot = createHotApp(deps.value);
  const counted = (r: LeanResult): LeanResult => {
    if (r instanceof Response) twin.leanAnswers += 1;
    return r;
  };
  const gateway = hotPathsFirst(
    lean
      ? {
          fetch: hot.app.fetch,
          lean: (req, url, path) => {
            const r = hot.lean(req, url, path);
            return r instanceof Promise ? r.then(counted) : counted(r);
          },
        }
      : { fetch: hot.app.fetch },
    () => createApp(deps.value).fetch,
    log,
  );
  twin.fetch = async (req) => gateway(req, vars, ctx);
  return twin;
}

interface Seen {
  status: number;
  headers: [string, string][];
  body: string;
  logs: LogRecord[];
}

/** One answer and the lines it logged, with a request id the gateway drew replaced by `<id>`. */
async function seen(twin: Twin, build: () => Request): Promise<Seen> {
  const before = twin.logs.length;
  const res = await twin.fetch(build());
  const body = await res.text();
  const id = res.headers.get('x-request-id');
  const drawn = id !== null && /^[0-9a-f]{8}-[0-9a-f]{4}-4/.test(id) ? id : undefined;
  const norm = (v: unknown) => (drawn !== undefined && v === drawn ? '<id>' : v);
  return {
    status: res.status,
    headers: [...res.headers].map(([k, v]) => [k, String(norm(v))]),
    body: drawn === undefined ? body : body.replaceAll(drawn, '<id>'),
    logs: twin.logs
      .slice(before)
      .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, norm(v)])) as LogRecord),
  };
}

const APPS = ['demo-oauth', 'demo-github-app'] as const;

async function setUp() {
  const gw = await createTestGateway();
  const tokens = seedTokens(gw);
  const lean = twinOf(gw, true);
  const app = twinOf(gw, false);
  const callers = {
    demo: await gw.caller('svc-demo'),
    readonly: await gw.caller('svc-readonly'),
    // Valid but never warmed: verified on first use, by both.
    late: await gw.caller('svc-demo', { jti: 'late' }),
    nobody: await gw.caller('svc-nobody'),
  };
  const endUser = {
    octocatOauth: tokens.octocatOauth,
    monalisaOauth: tokens.monalisaOauth,
    octocatApp: tokens.octocatGithubApp,
    monalisaApp: tokens.monalisaGithubApp,
    // Token-shaped but unknown to GHES: cached inactive once checked.
    unknown: `gho_${'A1b2C3d4E5'.repeat(3)}zzzzzz`,
    // No GitHub token looks like this: inactive without a check.
    garbage: 'not-a-github-token',
  };
  // Every GHES-bound check happens here, once per gateway: the property's requests are answered
  // from each gateway's cache (or need no check), so the shared clock and emulator see no
  // difference in the order the two are asked.
  for (const twin of [lean, app])
    for (const token of Object.values(endUser))
      for (const appName of APPS) {
        for (const caller of [callers.demo, callers.readonly]) {
          await twin.fetch(forwardAuthRequest(caller, token, `/forward-auth?app=${appName}`));
          await twin.fetch(introspectRequest(caller, `token=${token}&app=${appName}`));
        }
      }
  // The property counts its own cases' lean answers.
  lean.leanAnswers = 0;
  return { gw, lean, app, callers, endUser };
}

function forwardAuthRequest(
  caller: string,
  token: string,
  path = '/forward-auth',
  extra: Record<string, string> = {},
  method = 'GET',
): Request {
  return new Request(`${GATEWAY_URL}${path}`, {
    method,
    headers: {
      'x-gateway-authorization': `Bearer ${caller}`,
      authorization: `Bearer ${token}`,
      ...extra,
    },
  });
}

/** A body built here has no Content-Length until it is sent; one from HTTP has (declared here). */
function introspectRequest(
  caller: string,
  body: string,
  extra: Record<string, string> = {},
): Request {
  return new Request(`${GATEWAY_URL}/introspect`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${caller}`,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(new TextEncoder().encode(body).byteLength),
      ...extra,
    },
    body,
  });
}

type Fixture = Awaited<ReturnType<typeof setUp>>;

/** A header value, or absent (`undefined`), from a small set of telling variants. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

/** Everything a case may vary, as data (so a counterexample prints readably). */
function requestArb(f: Fixture) {
  // Weighted toward what the lean pipeline answers, so that most cases reach it; every variant
  // still comes up.
  const callerHeader = fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${f.callers.demo}`) },
    { weight: 2, arbitrary: fc.constant(`Bearer ${f.callers.readonly}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        `bearer  ${f.callers.demo} `,
        `Bearer ${f.callers.late}`,
        `Bearer ${f.callers.nobody}`,
        'Bearer not.a.jwt',
        `Basic ${f.callers.demo}`,
        '',
      ),
    },
  );
  const token = fc.oneof(
    { weight: 3, arbitrary: fc.constant(f.endUser.octocatOauth) },
    { weight: 3, arbitrary: fc.constantFrom(...Object.values(f.endUser)) },
  );
  const endUserHeader = fc.oneof(
    { weight: 6, arbitrary: token.map((t) => `Bearer ${t}`) },
    token.map((t) => `token ${t}`),
    token.map((t) => `BEARER   ${t}`),
    fc.constantFrom('Bearer', 'Basic Zm9vOmJhcg==', 'Bearer a b', ''),
  );
  const requestId = maybe(
    fc.constantFrom('req-42', 'a'.repeat(200), `id-${f.endUser.octocatOauth}`, ''),
  );
  const appValue = fc.constantFrom(...APPS, 'no-such-app', 'bad app!', '', '%64emo-oauth');
  const scopeValue = fc.constantFrom('repo', 'read:org', 'admin:org', 'repo read:org', '', 'a"b');
  const queryPart = fc.oneof(
    { weight: 3, arbitrary: appValue.map((v) => `app=${v}`) },
    scopeValue.map((v) => `scope=${encodeURIComponent(v)}`),
    scopeValue.map((v) => `scope=${v.replaceAll(' ', '+')}`),
    token.map((t) => `access_token=${t}`),
    fc.constantFrom('page=2', 'token=', 'x', '__proto__=1', 'constructor=app'),
  );
  const forwardAuthParts = {
    kind: fc.constant('forward_auth' as const),
    method: fc.constantFrom('GET', 'GET', 'POST', 'HEAD', 'OPTIONS', 'DELETE'),
    path: fc.constantFrom(
      '/forward-auth',
      '/forward-auth/',
      '/forward-auth/api/v1/x',
      '/%66orward-auth',
    ),
    query: fc.array(queryPart, { maxLength: 3 }),
    caller: callerHeader,
    endUser: fc.option(endUserHeader, { nil: undefined, freq: 8 }),
    headerApp: maybe(appValue),
    headerScope: maybe(scopeValue),
    requestId,
  };
  const formPart = fc.oneof(
    { weight: 4, arbitrary: token.map((t) => `token=${t}`) },
    token.map((t) => `token=${encodeURIComponent(t).replace('_', '%5F')}`),
    appValue.map((v) => `app=${v}`),
    fc.constantFrom(
      'token_type_hint=access_token',
      'token_type_hint=bad hint!',
      'client_id=x',
      'token=',
      '',
    ),
  );
  const introspectParts = {
    kind: fc.constant('introspect' as const),
    method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET'),
    query: fc.array(fc.constantFrom('x=1', `access_token=${f.endUser.octocatOauth}`), {
      maxLength: 1,
    }),
    caller: callerHeader,
    form: fc.array(formPart, { minLength: 1, maxLength: 4 }),
    contentType: fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=utf-8',
      'Application/X-WWW-Form-Urlencoded',
      'application/json',
      'multipart/form-data',
    ),
    accept: maybe(
      fc.constantFrom(
        'application/json',
        'application/token-introspection+jwt',
        'text/html',
        '*/*',
        'application/json;q=0.1, application/token-introspection+jwt',
      ),
    ),
    // How the body arrives: with its length declared (as over HTTP/1.1), declared too long for
    // the limit, or streamed without one.
    body: fc.constantFrom('declared', 'declared', 'declared', 'oversized', 'streamed'),
    requestId,
  };
  // And near the common request: a known caller, a cached token, only benign variations.
  const usual = {
    caller: fc.constant(`Bearer ${f.callers.demo}`),
    requestId: fc.constantFrom(undefined, 'req-42'),
  };
  const usualApp = fc.constantFrom(...APPS.map((a) => `app=${a}`));
  return fc.oneof(
    fc.record(forwardAuthParts),
    fc.record(introspectParts),
    fc.record({
      ...forwardAuthParts,
      ...usual,
      query: fc.array(fc.oneof(usualApp, fc.constantFrom('scope=repo', 'page=2')), {
        maxLength: 2,
      }),
      endUser: token.map((t) => `Bearer ${t}`),
      headerApp: fc.constant(undefined),
      headerScope: fc.constantFrom(undefined, 'repo'),
    }),
    fc.record({
      ...introspectParts,
      ...usual,
      method: fc.constant('POST'),
      query: fc.constant([]),
      form: fc
        .tuple(
          token.map((t) => `token=${t}`),
          usualApp,
        )
        .map((parts) => parts),
      contentType: fc.constant('application/x-www-form-urlencoded'),
      accept: fc.constantFrom(undefined, 'application/json'),
      body: fc.constant('declared'),
    }),
  );
}

type Case = ReturnType<typeof requestArb> extends fc.Arbitrary<infer C> ? C : never;

function build(c: Case): () => Request {
  const headers: Record<string, string> = {};
  if (c.requestId !== undefined) headers['x-request-id'] = c.requestId;
  if (c.kind === 'forward_auth') {
    if (c.caller !== '') headers['x-gateway-authorization'] = c.caller;
    if (c.endUser !== undefined) headers['authorization'] = c.endUser;
    if (c.headerApp !== undefined) headers['x-forward-auth-app'] = c.headerApp;
    if (c.headerScope !== undefined) headers['x-forward-auth-scope'] = c.headerScope;
    const url = `${GATEWAY_URL}${c.path}${c.query.length > 0 ? `?${c.query.join('&')}` : ''}`;
    return () => new Request(url, { method: c.method, headers });
  }
  if (c.caller !== '') headers['authorization'] = c.caller;
  headers['content-type'] = c.contentType;
  if (c.accept !== undefined) headers['accept'] = c.accept;
  const url = `${GATEWAY_URL}/introspect${c.query.length > 0 ? `?${c.query.join('&')}` : ''}`;
  const text = c.form.join('&');
  if (c.method === 'GET') return () => new Request(url, { headers });
  if (c.body === 'streamed')
    return () => new Request(url, { method: c.method, headers, body: new Blob([text]).stream() });
  // Over MAX_BODY_BYTES by padding (an ignored parameter), or exactly as long as it is.
  const sent = c.body === 'oversized' ? `${text}&pad=${'x'.repeat(20_000)}` : text;
  const length = String(new TextEncoder().encode(sent).byteLength);
  return () =>
    new Request(url, {
      method: c.method,
      headers: { ...headers, 'content-length': length },
      body: sent,
    });
}

describe('lean pipeline vs the app (differential)', () => {
  const plan = propertyPlan(300, 40);

  it(
    'answers and logs every generated hot-path request exactly as the app does',
    async () => {
      const f = await setUp();
      const checksBefore = f.gw.emulator.calls().check;
      await fc.assert(
        fc.asyncProperty(requestArb(f), async (c) => {
          const make = build(c);
          const viaLean = await seen(f.lean, make);
          const viaApp = await seen(f.app, make);
          expect(viaLean).toEqual(viaApp);
        }),
        plan.params,
      );
      // Every answer came from a cache or needed no check: the order of the two made no difference.
      expect(f.gw.emulator.calls().check).toBe(checksBefore);
      // Not vacuous: many cases were allowed or active answers, the lean pipeline's domain.
      expect(f.lean.leanAnswers).toBeGreaterThan(plan.numRuns / 5);
    },
    plan.timeoutMs,
  );
});

describe('lean pipeline vs the app as time passes (differential)', () => {
  const plan = propertyPlan(80, 80);

  it(
    'answers and logs alike across the expiry of cached answers, remembered keys and callers',
    async () => {
      const f = await setUp();
      const tokens = Object.values(f.endUser);
      await fc.assert(
        fc.asyncProperty(
          // Steps around CACHE_POSITIVE_TTL_S (60 s: the L1 entry and the remembered key), the
          // caller cache's 60 s and a caller JWT's 300 s life.
          fc.constantFrom(0, 1, 30, 59, 60, 61, 119, 120, 299, 300, 301),
          fc.constantFrom('forward_auth' as const, 'introspect' as const),
          fc.constantFrom(...tokens),
          fc.constantFrom(...APPS, undefined),
          // A caller JWT minted now, or the one minted when the gateways were warmed.
          fc.boolean(),
          async (advanceS, kind, token, app, fresh) => {
            f.gw.clock.advance(advanceS);
            const caller = fresh ? await f.gw.caller('svc-demo') : f.callers.demo;
            const make =
              kind === 'forward_auth'
                ? () =>
                    forwardAuthRequest(
                      caller,
                      token,
                      app === undefined ? '/forward-auth' : `/forward-auth?app=${app}`,
                    )
                : () =>
                    introspectRequest(
                      caller,
                      `token=${token}${app === undefined ? '' : `&app=${app}`}`,
                    );
            // Twice: the first may fill what the second then finds remembered.
            for (let i = 0; i < 2; i++) {
              const viaLean = await seen(f.lean, make);
              const viaApp = await seen(f.app, make);
              expect(viaLean).toEqual(viaApp);
            }
          },
        ),
        plan.params,
      );
      // Not vacuous: the lean pipeline answered many of them.
      expect(f.lean.leanAnswers).toBeGreaterThan(plan.numRuns / 4);
    },
    plan.timeoutMs,
  );
});

describe('lean pipeline', () => {
  /** The hot app, and its lean dispatch for a request (whose URL and routing path it reads). */
  function hotOf(gw: TestGateway): {
    app: (r: Request) => Promise<Response>;
    lean: (r: Request, path: string) => ReturnType<LeanDispatch>;
  } {
    const deps = gatewayDeps(gw.vars as Bindings, {
      fetch: (input, init) => gw.emulator.fetch(input, init),
      clock: gw.clock,
      log: (r) => gw.logs.push(r),
    });
    if (!deps.ok) throw new Error(deps.error.join('; '));
    const hot = createHotApp(deps.value);
    return {
      app: async (r) => hot.app.fetch(r, gw.vars as Bindings, ctx),
      lean: (r, path) => hot.lean(r, r.url, path),
    };
  }

  it('answers an allowed forward auth itself, synchronously, once caller, key and entry are cached', async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    const caller = await gw.caller();
    const { app, lean } = hotOf(gw);
    const first = forwardAuthRequest(caller, token);
    expect(lean(first, '/forward-auth')).toBe(first);
    expect((await app(first)).status).toBe(200);
    gw.logs.length = 0;

    const answered = lean(
      forwardAuthRequest(caller, token, '/forward-auth', { 'x-request-id': 'req-7' }),
      '/forward-auth',
    );
    expect(answered).toBeInstanceOf(Response);
    const res = answered as Response;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-auth-user')).toBe('octocat');
    expect(res.headers.get('x-request-id')).toBe('req-7');
    expect(res.headers.get('cache-status')).toMatch(/; hit; ttl=\d+; detail=l1$/);
    expect(gw.logs).toEqual([
      expect.objectContaining({
        event: 'request',
        request_id: 'req-7',
        method: 'GET',
        route: '/forward-auth/*',
        status: 200,
        caller: 'svc-demo',
        operation: 'forward_auth',
        app: 'demo-oauth',
        outcome: 'allowed',
      }),
    ]);
    expect(gw.emulator.calls().check).toBe(1);
    // A plain query (the gateway's own parameters) is no reason to hand it on; a credential-shaped
    // one is (the app refuses it).
    const plain = lean(
      forwardAuthRequest(caller, token, '/forward-auth/api?app=demo-oauth&scope=repo'),
      '/forward-auth/api',
    );
    expect(plain).toBeInstanceOf(Response);
    expect((plain as Response).headers.get('x-auth-app')).toBe('demo-oauth');
    const leaky = forwardAuthRequest(caller, token, `/forward-auth?access_token=${token}`);
    expect(lean(leaky, '/forward-auth')).toBe(leaky);
  });

  it("answers for a remembered caller up to the instant its JWT's check would fail, not at it", async () => {
    const gw = await createTestGateway();
    const token = seedTokens(gw).octocatOauth;
    // exp 20 s from now; with the 30 s clock tolerance it is refused from exp + 30 s on, before
    // the caller cache's own 60 s are up.
    const exp = Math.floor(gw.clock.ms / 1000) + 20;
    const caller = await gw.caller('svc-demo', { exp });
    const { app, lean } = hotOf(gw);
    expect((await app(forwardAuthRequest(caller, token))).status).toBe(200);
    gw.clock.ms = (exp + 30) * 1000 - 1;
    // The entry and the remembered key have 60 s: still fresh here.
    expect(lean(forwardAuthRequest(caller, token), '/forward-auth')).toBeInstanceOf(Response);
    gw.clock.ms = (exp + 30) * 1000;
    const handed = forwardAuthRequest(caller, token);
    expect(lean(handed, '/forward-auth')).toBe(handed);
    expect((await app(handed)).status).toBe(401);
  });

  it('answers an active introspection itself once cached; a denial and a miss go to the app', async () => {
    const gw = await createTestGateway();
    const { octocatOauth, monalisaOauth } = seedTokens(gw);
    const caller = await gw.caller();
    const { app, lean } = hotOf(gw);
    expect(
      await lean(introspectRequest(caller, `token=${octocatOauth}`), '/introspect'),
    ).toBeInstanceOf(Request);
    expect((await app(introspectRequest(caller, `token=${octocatOauth}`))).status).toBe(200);
    const answered = await lean(introspectRequest(caller, `token=${octocatOauth}`), '/introspect');
    expect(answered).toBeInstanceOf(Response);
    const res = answered as Response;
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(await res.json()).toMatchObject({ active: true, username: 'octocat' });

    // A token not yet cached: read, then handed on (a miss is the app's).
    const miss = await lean(introspectRequest(caller, `token=${monalisaOauth}`), '/introspect');
    expect(miss).toBeInstanceOf(Request);
    expect(await (await app(miss as Request)).json()).toMatchObject({ username: 'monalisa' });
    // A forward auth missing a scope is a denial: the app's.
    const denied = forwardAuthRequest(caller, octocatOauth, '/forward-auth?scope=admin:org');
    expect((await app(forwardAuthRequest(caller, octocatOauth))).status).toBe(200);
    expect(lean(denied, '/forward-auth')).toBe(denied);
  });

  it('reads no body the app would refuse unread: too long, undeclared, chunked, not a form, not a POST', async () => {
    const gw = await createTestGateway();
    const caller = await gw.caller();
    const { app, lean } = hotOf(gw);
    // The caller remembered, so only the body's own checks stand between it and a read.
    await app(introspectRequest(caller, 'token=not-a-github-token'));
    // MAX_BODY_BYTES (16 384 by default) exactly is read; one byte more is the app's (413).
    const max = 16_384;
    const sized = (length: number, extra: Record<string, string> = {}, method = 'POST') => {
      const body = `token=not-a-github-token&pad=${'x'.repeat(length - 29)}`;
      expect(new TextEncoder().encode(body).byteLength).toBe(length);
      return new Request(`${GATEWAY_URL}/introspect`, {
        method,
        headers: {
          authorization: `Bearer ${caller}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(length),
          ...extra,
        },
        body,
      });
    };
    const atMax = await lean(sized(max), '/introspect');
    expect(atMax).toBeInstanceOf(Response);
    expect(await (atMax as Response).json()).toEqual({ active: false });
    const refused = [
      sized(max + 1),
      sized(100, { 'content-length': '99999999' }),
      sized(100, { 'content-length': 'ten' }),
      sized(100, { 'transfer-encoding': 'chunked' }),
      sized(100, { 'content-type': 'application/json' }),
      sized(100, { 'content-type': 'multipart/form-data; boundary=x' }),
      sized(100, {}, 'PUT'),
    ];
    for (const req of refused) {
      const label = `${req.method} ${[...req.headers].map(([k, v]) => `${k}=${v.slice(0, 20)}`).join(' ')}`;
      expect(await lean(req, '/introspect'), label).toBe(req);
      expect(req.bodyUsed, label).toBe(false);
    }
    // No body at all, whatever the headers say.
    const empty = new Request(`${GATEWAY_URL}/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${caller}`,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': '0',
      },
    });
    expect(await lean(empty, '/introspect')).toBe(empty);
    // Undeclared: a stream of unknown length.
    const streamed = new Request(`${GATEWAY_URL}/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${caller}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new Blob(['token=not-a-github-token']).stream(),
    });
    expect(await lean(streamed, '/introspect')).toBe(streamed);
    expect(streamed.bodyUsed).toBe(false);
  });

  it('hands a body it could not read to the app, which answers and logs the failure', async () => {
    const gw = await createTestGateway();
    const caller = await gw.caller();
    const { app, lean } = hotOf(gw);
    await app(introspectRequest(caller, 'token=not-a-github-token'));
    const broken = () =>
      new Request(`${GATEWAY_URL}/introspect`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${caller}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': '12',
          'x-request-id': 'req-9',
        },
        body: new ReadableStream({
          pull(controller) {
            controller.error(new TypeError('the client went away'));
          },
        }),
      });
    gw.logs.length = 0;
    const handed = await lean(broken(), '/introspect');
    expect(handed).toBeInstanceOf(Request);
    const viaLean = await app(handed as Request);
    const leanLogs = gw.logs.splice(0);
    const direct = await app(broken());
    expect(viaLean.status).toBe(500);
    expect([viaLean.status, await viaLean.text()]).toEqual([direct.status, await direct.text()]);
    expect(leanLogs).toEqual(gw.logs);
    expect(leanLogs.filter((r) => r.event === 'request')).toHaveLength(1);
  });

  it('hands a body it read to the app as the same text, whatever its bytes', async () => {
    const gw = await createTestGateway();
    const caller = await gw.caller();
    const { app, lean } = hotOf(gw);
    // The caller remembered, so the lean pipeline reads the next bodies.
    await app(introspectRequest(caller, 'token=not-a-github-token'));
    await fc.assert(
      fc.asyncProperty(
        // Byte-order marks, bytes that are not UTF-8, and a parameter given twice (so that the
        // lean pipeline reads the body and hands it on).
        fc.array(fc.constantFrom(0xef, 0xbb, 0xbf, 0xff, 0x80, 0x61, 0x3d, 0x26), {
          maxLength: 12,
        }),
        fc.constantFrom([], [0xef, 0xbb, 0xbf], [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], [0xff]),
        async (noise, before) => {
          const form = new TextEncoder().encode('x=1&token=a&token=b&');
          const bytes = new Uint8Array([...before, ...form, ...noise]);
          const req = () =>
            new Request(`${GATEWAY_URL}/introspect`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${caller}`,
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': String(bytes.byteLength),
                'x-request-id': 'req-1',
              },
              body: bytes,
            });
          const original = req();
          const handed = await lean(original, '/introspect');
          expect(handed).toBeInstanceOf(Request);
          expect(handed).not.toBe(original);
          expect(original.bodyUsed).toBe(true);
          // What the app's form reader (src/routes/api.ts) gets from it: the same text.
          const read = (r: Request) => new Response(r.body).text();
          expect(await read(handed as Request)).toBe(await read(req()));
          // And so the same answer as the untouched request gets.
          const [a, b] = [
            await app((await lean(req(), '/introspect')) as Request),
            await app(req()),
          ];
          expect([a.status, await a.text()]).toEqual([b.status, await b.text()]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
