/**
 * The required work of an L1 hit, without the gateway: how near any design keeping the gateway's
 * rules can get (docs/performance.md, Method). Served over HTTP as the `required_*` scenarios and
 * called in a loop by the hot-path probe (bench/lib/hot-path.ts), so both measure this one file.
 *
 * No more than the rules demand: a request id (logged and returned); the caller's JWT found in a
 * cache of verified ones (a Map, and its expiry); the media type checked and the form body read
 * and split (introspection; RFC 7662 §2.1 puts the token there); the token's keyed digest (L1 and
 * KV never hold a raw token), remembered per token as the gateway does (src/cache/keys.ts,
 * `KnownKeys`: a map lookup and its expiry on a hit); the L1 lookup and the entry's expiry; one request
 * log line; the answer, already serialised, with the headers the gateway's answer carries (its
 * documented contract: no-store and `cache-status` on an introspection; the `x-auth-*` identity,
 * the app that vouched and nginx's caching directives, max-age from the entry's freshness, on a
 * forward auth). No validation library, no router, no middleware chain, no policy, no metrics.
 * Never deployed: the pepper is a constant.
 */

interface Env {
  /** The caller JWT taken as verified, and the token taken as cached (the bench's fixture). */
  REQUIRED_CALLER_JWT: string;
  REQUIRED_TOKEN: string;
}

interface Entry {
  exp: number;
  json: string;
  /** The forward-auth headers that do not change while the entry lives, built once. */
  identity: Record<string, string>;
}

const utf8 = new TextEncoder();
const hex = (buf: ArrayBuffer): string =>
  [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
/** The token's keyed digest: one WebCrypto HMAC. */
const digestOf = async (key: CryptoKey, token: string): Promise<string> =>
  hex(await crypto.subtle.sign('HMAC', key, utf8.encode(token)));

interface State {
  key: CryptoKey;
  callers: Map<string, { sub: string; exp: number }>;
  l1: Map<string, Entry>;
  /** Keyed digests already computed, by token (the gateway's KnownKeys). */
  known: Map<string, { digest: string; exp: number }>;
}
let state: State | undefined;

/** Fills the two caches with the fixture's caller and token, once per isolate. */
async function prepare(callerJwt: string, token: string): Promise<State> {
  if (state !== undefined) return state;
  const key = await crypto.subtle.importKey(
    'raw',
    utf8.encode('bench-required-pepper-0123456789abcdef'),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const digest = await digestOf(key, token);
  const exp = Date.now() + 3_600_000;
  const answer = {
    active: true,
    client_id: 'Iv1.0123456789abcdef',
    username: 'octocat',
    scope: 'repo read:org',
    token_type: 'bearer',
    exp: Math.floor(exp / 1000),
    sub: 'octocat',
  };
  state = {
    key,
    known: new Map(),
    callers: new Map([[callerJwt, { sub: 'bench-caller', exp }]]),
    l1: new Map([
      [
        digest,
        {
          exp,
          json: JSON.stringify(answer),
          identity: {
            'x-auth-scopes': 'repo, read:org',
            'x-auth-user': 'octocat',
            'x-auth-user-id': '1',
            'x-auth-app': 'demo-oauth',
            'x-auth-client-id': 'Iv1.0123456789abcdef',
            vary: 'Authorization, X-Gateway-Authorization',
          },
        },
      ],
    ]),
  };
  return state;
}

function logLine(id: string, method: string, route: string, caller: string, app: string | null) {
  console.log(
    JSON.stringify({
      ts: new Date().toISOString(),
      level: 'info',
      event: 'request',
      request_id: id,
      method,
      route,
      status: 200,
      caller,
      app,
      outcome: 'active',
      cache: 'l1',
      latency_ms: 0,
    }),
  );
}

function callerOf(s: State, header: string | null): { sub: string } | undefined {
  const caller = header === null ? undefined : s.callers.get(header.slice(7));
  return caller !== undefined && caller.exp > Date.now() ? caller : undefined;
}

async function entryOf(s: State, token: string): Promise<Entry | undefined> {
  const known = s.known.get(token);
  let digest = known !== undefined && known.exp > Date.now() ? known.digest : undefined;
  if (digest === undefined) {
    digest = await digestOf(s.key, token);
    s.known.set(token, { digest, exp: Date.now() + 60_000 });
  }
  const entry = s.l1.get(digest);
  return entry !== undefined && entry.exp > Date.now() ? entry : undefined;
}

async function introspect(s: State, req: Request): Promise<Response> {
  const id = crypto.randomUUID();
  const caller = callerOf(s, req.headers.get('authorization'));
  if (caller === undefined) return new Response(null, { status: 401 });
  if (req.headers.get('content-type') !== 'application/x-www-form-urlencoded')
    return new Response(null, { status: 415 });
  const fields: Record<string, string> = {};
  // As the gateway reads it (src/routes/api.ts): text through a Response, no ArrayBuffer.
  for (const pair of (await new Response(req.body).text()).split('&')) {
    const eq = pair.indexOf('=');
    fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const entry = await entryOf(s, fields['token'] ?? '');
  if (entry === undefined) return new Response(null, { status: 500 });
  logLine(id, 'POST', '/introspect', caller.sub, fields['app'] ?? null);
  return new Response(entry.json, {
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'cache-status': 'ghes-token-gateway; hit; detail=l1',
      'x-request-id': id,
    },
  });
}

async function forwardAuth(s: State, req: Request): Promise<Response> {
  const id = crypto.randomUUID();
  const caller = callerOf(s, req.headers.get('x-gateway-authorization'));
  if (caller === undefined) return new Response(null, { status: 401 });
  const app = new URL(req.url).searchParams.get('app');
  const entry = await entryOf(s, (req.headers.get('authorization') ?? '').slice(7));
  if (entry === undefined) return new Response(null, { status: 401 });
  logLine(id, req.method, '/forward-auth/*', caller.sub, app);
  const maxAge = String(Math.floor((entry.exp - Date.now()) / 1000));
  return new Response(null, {
    headers: {
      ...entry.identity,
      'cache-control': `private, max-age=${maxAge}`,
      'x-accel-expires': maxAge,
      'cache-status': 'ghes-token-gateway; hit; detail=l1',
      'x-request-id': id,
    },
  });
}

/** The path of a request URL, found as a router must find it (no URL parse). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  const query = url.indexOf('?', start);
  return url.slice(start, query === -1 ? undefined : query);
}

/** The required work of one request, by its path; `prepare` first. */
export async function answer(req: Request, callerJwt: string, token: string): Promise<Response> {
  const s = await prepare(callerJwt, token);
  const path = pathOf(req.url);
  if (path === '/introspect') return introspect(s, req);
  if (path === '/forward-auth' || path.startsWith('/forward-auth/')) return forwardAuth(s, req);
  return new Response(null, { status: 404 });
}

export default {
  fetch(req: Request, env: Env): Promise<Response> {
    return answer(req, env.REQUIRED_CALLER_JWT, env.REQUIRED_TOKEN);
  },
};
