/**
 * Probe `hot_path`: the gateway's per-request cost inside one isolate, with no HTTP server.
 *
 * The HTTP scenarios run the load generator and workerd on the same 2 CPUs, so their figures mix
 * the load generator's CPU with the worker's. Here a wrapper module, loaded in the same isolate as
 * the built gateway bundle, calls the bundle's own `fetch` `n` times in a loop and reads each
 * answer; Node times the whole batch (workerd's clocks stand still while a request computes, so
 * the isolate cannot time itself). One batch per mode per round, the modes interleaved and their
 * order alternated every round so that drift of this shared machine hits all modes alike.
 *
 *   hello          the loop's own cost: the same introspection Request built, a small JSON
 *                  Response made instead of calling the gateway, its body read;
 *   introspect     POST /introspect of one cached token (L1 hit), caller JWT verified each time;
 *   forward_auth   GET /forward-auth of the same token (L1 hit).
 *   required_*     the same two requests answered by a few lines of the wrapper's own instead of
 *                  the gateway: only the work any design keeping the gateway's rules must do for
 *                  an L1 hit (`requiredSource`). What is left between it and the gateway is the
 *                  design's own cost; what lies between hello and it, none can save.
 *
 * The gateway runs with the bench's bindings, KV and raised rate limits, as in bench/lib/workers.ts,
 * and calls the bench's GHES emulator: the first introspection fills the cache; from then on any
 * GHES call means the loop did not measure cache hits, and the probe fails.
 */
import { Miniflare } from 'miniflare';
import type { Bundle, ProjectConfig } from './build';
import { withEntryWrapper } from './entry-wrapper';
import { runtimeConfig } from './workers';
import { workerOutput } from './worker-output';

/**
 * `introspect_sampled`: the same introspection on a second gateway built in the same isolate
 * with LOG_SAMPLE_HITS = 1 (one hit in a hundred logged): what the request line costs.
 */
export const HOT_MODES = [
  'hello',
  'introspect',
  'introspect_sampled',
  'forward_auth',
  'required_introspect',
  'required_forward_auth',
] as const;
export type HotMode = (typeof HOT_MODES)[number];

/** Name of the wrapper module, beside the bundle's modules (never written to disk). */
const WRAPPER = '__bench_hot_path.js';

/**
 * The required work of an L1 hit, without the gateway, and no more of it than the gateway's rules
 * demand: a request id (logged and returned); the caller's JWT found in a cache of verified ones
 * (a Map, and its expiry); the media type checked and the form body read and split
 * (introspection; RFC 7662 §2.1 puts the token there); the token's keyed digest through
 * WebCrypto (L1 and KV never hold a raw token); the L1 lookup and the entry's expiry; one request
 * log line; the answer, already serialised, with its no-store headers. No validation library, no
 * router, no middleware chain, no policy, no metrics.
 */
const REQUIRED_SOURCE = `
const utf8 = new TextEncoder();
const text = new TextDecoder();
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
let required;

async function prepareRequired(p) {
  if (required !== undefined) return;
  const key = await crypto.subtle.importKey(
    'raw', utf8.encode('bench-required-pepper-0123456789abcdef'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'],
  );
  const digest = hex(await crypto.subtle.sign('HMAC', key, utf8.encode(p.token)));
  const exp = Date.now() + 3_600_000;
  required = {
    key,
    callers: new Map([[p.jwt, { sub: 'bench-caller', exp }]]),
    l1: new Map([[digest, { exp, json: JSON.stringify({ active: true, client_id: 'Iv1.0123456789abcdef', username: 'octocat', scope: 'repo read:org', token_type: 'bearer', exp: Math.floor(exp / 1000), sub: 'octocat' }), login: 'octocat' }]]),
  };
}

function line(id, method, route, caller, app, status) {
  console.log(JSON.stringify({
    ts: new Date().toISOString(), level: 'info', event: 'request', request_id: id, method, route,
    status, caller, app, operation: 'introspect', outcome: 'active', cache: 'l1', duration_ms: 0,
  }));
}

async function requiredIntrospect(req) {
  const id = crypto.randomUUID();
  const auth = req.headers.get('authorization');
  const caller = auth === null ? undefined : required.callers.get(auth.slice(7));
  if (caller === undefined || caller.exp <= Date.now()) return new Response(null, { status: 401 });
  if (req.headers.get('content-type') !== 'application/x-www-form-urlencoded')
    return new Response(null, { status: 415 });
  const fields = {};
  for (const pair of text.decode(await req.arrayBuffer()).split('&')) {
    const eq = pair.indexOf('=');
    fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const digest = hex(await crypto.subtle.sign('HMAC', required.key, utf8.encode(fields.token)));
  const entry = required.l1.get(digest);
  if (entry === undefined || entry.exp <= Date.now()) return new Response(null, { status: 500 });
  line(id, 'POST', '/introspect', caller.sub, fields.app, 200);
  return new Response(entry.json, {
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', 'x-request-id': id },
  });
}

async function requiredForwardAuth(req) {
  const id = crypto.randomUUID();
  const gatewayAuth = req.headers.get('x-gateway-authorization');
  const caller = gatewayAuth === null ? undefined : required.callers.get(gatewayAuth.slice(7));
  if (caller === undefined || caller.exp <= Date.now()) return new Response(null, { status: 401 });
  const app = new URL(req.url).searchParams.get('app');
  const token = (req.headers.get('authorization') ?? '').slice(7);
  const digest = hex(await crypto.subtle.sign('HMAC', required.key, utf8.encode(token)));
  const entry = required.l1.get(digest);
  if (entry === undefined || entry.exp <= Date.now()) return new Response(null, { status: 401 });
  line(id, 'GET', '/forward-auth/*', caller.sub, app, 200);
  return new Response(null, { headers: { 'x-auth-user': entry.login, 'x-request-id': id } });
}
`;

/**
 * The wrapper: a worker whose every request runs one batch. The control request carries the mode,
 * the batch size and the credentials (so none of them is baked into code). Each answer is checked
 * inside the loop — status, and `"active": true` where the body is an introspection — and the
 * hello mode does the same check on its own body, so the check costs every mode alike.
 */
function wrapperSource(mainModule: string): string {
  return `
import gateway from ${JSON.stringify(`./${mainModule}`)};
${REQUIRED_SOURCE}

const HELLO = '{"active":true}';
const ACTIVE = /"active"\\s*:\\s*true/;

/** The gateway builds once per env object: a second one, sampling its hit lines. */
let sampledEnv;

export default {
  async fetch(control, env, ctx) {
    sampledEnv ??= { ...env, LOG_SAMPLE_HITS: '1' };
    const p = await control.json();
    const body = new URLSearchParams({ token: p.token, app: p.app }).toString();
    const introspection = () =>
      new Request('http://gateway.bench/introspect', {
        method: 'POST',
        headers: {
          authorization: 'Bearer ' + p.jwt,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'content-length': String(body.length),
        },
        body,
      });
    const forwardAuth = () =>
      new Request('http://gateway.bench/forward-auth?app=' + encodeURIComponent(p.app), {
        headers: { authorization: 'Bearer ' + p.token, 'x-gateway-authorization': 'Bearer ' + p.jwt },
      });
    const checksBody = !p.mode.endsWith('forward_auth');
    await prepareRequired(p);
    let bad = 0;
    let example = null;
    for (let i = 0; i < p.n; i++) {
      let res;
      if (p.mode === 'forward_auth') res = await gateway.fetch(forwardAuth(), env, ctx);
      else if (p.mode === 'required_forward_auth') res = await requiredForwardAuth(forwardAuth());
      else if (p.mode === 'required_introspect') res = await requiredIntrospect(introspection());
      else {
        const req = introspection();
        res =
          p.mode === 'hello'
            ? new Response(HELLO, { headers: { 'content-type': 'application/json' } })
            : await gateway.fetch(req, p.mode === 'introspect_sampled' ? sampledEnv : env, ctx);
      }
      const text = await res.text();
      if (res.status !== 200 || (checksBody && !ACTIVE.test(text))) {
        bad++;
        example ??= res.status + ' ' + text.slice(0, 200);
      }
    }
    return Response.json({ bad, example });
  },
};
`;
}

export interface HotPathOptions {
  bundle: Bundle;
  project: ProjectConfig;
  /** The gateway's vars and secrets (bench/lib/gateway-env.ts), GHES pointing at the emulator. */
  bindings: Record<string, string>;
  callerJwt: string;
  /** A GitHub token GHES knows as active. */
  token: string;
  app: string;
  rounds: number;
  /** Requests per batch. */
  requests: number;
  /** GHES check-token calls so far, once in-flight ones have arrived (the emulator's counter). */
  ghesCalls(): Promise<number>;
}

/** µs per request of each batch, per mode, in round order. */
export type HotPathTimings = Record<HotMode, number[]>;

export async function measureHotPath(o: HotPathOptions): Promise<HotPathTimings> {
  const { bundle, project } = o;
  const output = workerOutput();
  const runtime = runtimeConfig('hot-path', bundle, project, o.bindings);
  const manifest = runtime.manifest!;
  const mf = new Miniflare({
    workers: [
      {
        config: {
          ...runtime,
          // The wrapper is the entry point; it imports the bundle's main module.
          manifest: withEntryWrapper(manifest, WRAPPER, wrapperSource),
        },
      },
    ],
    enableDevRegistry: false,
    // The gateway's log lines go to a file, not through this timing process.
    ...output.options,
  });
  try {
    await mf.ready;
    const batch = async (mode: HotMode, n: number): Promise<number> => {
      const t = performance.now();
      const res = await mf.dispatchFetch('http://hot-path.bench/', {
        method: 'POST',
        body: JSON.stringify({ mode, n, jwt: o.callerJwt, token: o.token, app: o.app }),
      });
      const text = await res.text();
      const elapsed = performance.now() - t;
      let answer: { bad?: number; example?: string | null };
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        throw new Error(
          `${mode}: the wrapper answered ${res.status} ${text.slice(0, 200)} (worker output: ${output.lines().slice(-5).join(' | ')})`,
        );
      }
      if (answer.bad !== 0)
        throw new Error(
          `${mode}: ${answer.bad} of ${n} answers were not 200${mode.endsWith('forward_auth') ? '' : ' with "active": true'}, e.g. ${answer.example ?? '?'}`,
        );
      return (elapsed * 1000) / n;
    };
    // The first introspection fills the cache (one GHES call); every later one must be a hit.
    for (const mode of HOT_MODES) await batch(mode, 1);
    const before = await o.ghesCalls();
    // Warm-up: the JIT compiles the gateway's hot functions before anything counts.
    for (const mode of HOT_MODES) await batch(mode, o.requests);
    const timings: HotPathTimings = {
      hello: [],
      introspect: [],
      introspect_sampled: [],
      forward_auth: [],
      required_introspect: [],
      required_forward_auth: [],
    };
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? HOT_MODES : [...HOT_MODES].reverse();
      for (const mode of order) timings[mode].push(await batch(mode, o.requests));
    }
    const calls = (await o.ghesCalls()) - before;
    if (calls !== 0)
      throw new Error(
        `${calls} GHES calls during the warm-up and timed batches: the answers did not all come from the cache`,
      );
    return timings;
  } finally {
    await mf.dispose();
    output.dispose();
  }
}
