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
 *   required_*     the same two requests answered by bench/required/worker.ts instead of the
 *                  gateway: only the work any design keeping the gateway's rules must do for an
 *                  L1 hit. What is left between it and the gateway is the design's own cost; what
 *                  lies between hello and it, none can save.
 *
 * The gateway runs with the bench's bindings, KV and raised rate limits, as in bench/lib/workers.ts,
 * and calls the bench's GHES emulator: the first introspection fills the cache; from then on any
 * GHES call means the loop did not measure cache hits, and the probe fails.
 */
import { readFileSync } from 'node:fs';
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

/** The modes a probe runs: the `required_*` ones only with the required-work bundle. */
export function hotModes(withRequired: boolean): HotMode[] {
  return HOT_MODES.filter((m) => withRequired || !m.startsWith('required_'));
}

/**
 * An untimed warm-up batch of forward auths on the sampling gateway. Measured: a gateway that had
 * only ever seen introspections ran them about 13 µs faster than one that also serves forward
 * auth, as every deployed gateway does (the sampling gateway set to LOG_SAMPLE_HITS=100 was that
 * much faster than the main one, and no faster after this warm-up; each gateway builds its own
 * middleware closures, and V8's type feedback is the likely reason). With the same mix behind
 * both, the difference is the log line's.
 */
const SAMPLED_WARM_UP = 'sampled_forward_auth';

/** Name of the wrapper module, beside the bundle's modules (never written to disk). */
const WRAPPER = '__bench_hot_path.js';
/** bench/required/worker.ts's bundle, beside them too. */
const REQUIRED_MODULE = '__bench_required.js';

/**
 * The wrapper: a worker whose every request runs one batch. The control request carries the mode,
 * the batch size and the credentials (so none of them is baked into code). Each answer is checked
 * inside the loop — status, and `"active": true` where the body is an introspection — and the
 * hello mode does the same check on its own body, so the check costs every mode alike.
 */
function wrapperSource(mainModule: string, withRequired: boolean): string {
  return `
import gateway from ${JSON.stringify(`./${mainModule}`)};
${
  withRequired
    ? `import { answer as requiredWork } from ${JSON.stringify(`./${REQUIRED_MODULE}`)};`
    : 'const requiredWork = () => new Response(null, { status: 501 });'
}

const HELLO = '{"active":true}';

/**
 * The calls into the runtime one answer makes: every Request, Response and Headers getter and
 * method, every Request, Response, Headers and URL built, console output, crypto.randomUUID and
 * crypto.subtle, counted by wrapping them for one request per mode (the request itself is built
 * before counting starts).
 */
async function countCalls(p, env, ctx) {
  const counts = new Map();
  const bump = (name) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const restore = [];
  /** Members already wrapped, per owning prototype (Request and Response share workerd's Body). */
  const wrapped = new Map();
  const wrap = (start, member, label) => {
    // The member may live on a prototype further up (workerd's Body holds text(), body, …).
    let proto = start;
    while (proto !== null && !Object.hasOwn(proto, member)) proto = Object.getPrototypeOf(proto);
    if (proto === null) return;
    if (!wrapped.has(proto)) wrapped.set(proto, new Set());
    if (wrapped.get(proto).has(member)) return;
    const d = Object.getOwnPropertyDescriptor(proto, member);
    const name = proto === start ? label : label.replace(/^[^.]+/, 'Body');
    if (typeof d.value === 'function') {
      const f = d.value;
      Object.defineProperty(proto, member, { ...d, value: function (...a) { bump(name); return f.apply(this, a); } });
    } else if (d.get !== undefined) {
      const g = d.get;
      Object.defineProperty(proto, member, { ...d, get: function () { bump(name); return g.call(this); } });
    } else return;
    wrapped.get(proto).add(member);
    restore.push(() => Object.defineProperty(proto, member, d));
  };
  for (const m of ['get', 'set', 'has', 'append', 'delete', 'entries', 'forEach', 'getSetCookie'])
    wrap(Headers.prototype, m, 'Headers.' + m);
  for (const m of ['url', 'method', 'headers', 'body', 'signal', 'cf', 'text', 'arrayBuffer', 'formData', 'json', 'clone'])
    wrap(Request.prototype, m, 'Request.' + m);
  for (const m of ['headers', 'status', 'body', 'ok', 'text', 'arrayBuffer', 'json', 'clone'])
    wrap(Response.prototype, m, 'Response.' + m);
  for (const m of ['log', 'info', 'warn', 'error']) wrap(console, m, 'console.' + m);
  wrap(Object.getPrototypeOf(crypto), 'randomUUID', 'crypto.randomUUID');
  wrap(Object.getPrototypeOf(crypto), 'getRandomValues', 'crypto.getRandomValues');
  for (const m of ['sign', 'verify', 'digest', 'importKey'])
    wrap(Object.getPrototypeOf(crypto.subtle), m, 'crypto.subtle.' + m);
  const built = {};
  for (const name of ['Headers', 'Response', 'Request', 'URL']) {
    const original = globalThis[name];
    built[name] = original;
    globalThis[name] = new Proxy(original, { construct(t, a, n) { bump('new ' + name); return Reflect.construct(t, a, n); } });
  }
  const out = {};
  try {
    for (const [mode, make, run] of [
      ['introspect', introspectionOf(p), (req) => gateway.fetch(req, env, ctx)],
      ['forward_auth', forwardAuthOf(p), (req) => gateway.fetch(req, env, ctx)],
      ...(${withRequired}
        ? [
            ['required_introspect', introspectionOf(p), (req) => requiredWork(req, p.jwt, p.token)],
            ['required_forward_auth', forwardAuthOf(p), (req) => requiredWork(req, p.jwt, p.token)],
          ]
        : []),
    ]) {
      const req = make();
      counts.clear();
      const res = await run(req);
      let total = 0;
      for (const n of counts.values()) total += n;
      out[mode] = { total, detail: [...counts].map(([k, n]) => k + ' ' + n).join(', ') };
      await built.Response.prototype.text.call(res);
    }
  } finally {
    for (const r of restore) r();
    for (const name of Object.keys(built)) globalThis[name] = built[name];
  }
  return out;
}

/** Builders of the two requests, each made fresh per call; the form body is encoded once. */
const introspectionOf = (p) => {
  const body = new URLSearchParams({ token: p.token, app: p.app }).toString();
  return () => new Request('http://gateway.bench/introspect', {
    method: 'POST',
    headers: {
      authorization: 'Bearer ' + p.jwt,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'content-length': String(body.length),
    },
    body,
  });
};
const forwardAuthOf = (p) => () =>
  new Request('http://gateway.bench/forward-auth?app=' + encodeURIComponent(p.app), {
    headers: { authorization: 'Bearer ' + p.token, 'x-gateway-authorization': 'Bearer ' + p.jwt },
  });
const ACTIVE = /"active"\\s*:\\s*true/;

/** The gateway builds once per env object: a second one, sampling its hit lines. */
let sampledEnv;

export default {
  async fetch(control, env, ctx) {
    sampledEnv ??= { ...env, LOG_SAMPLE_HITS: '1' };
    const p = await control.json();
    const introspection = introspectionOf(p);
    const forwardAuth = forwardAuthOf(p);
    if (p.mode === 'calls') return Response.json(await countCalls(p, env, ctx));
    const checksBody = !p.mode.endsWith('forward_auth');
    let bad = 0;
    let example = null;
    for (let i = 0; i < p.n; i++) {
      let res;
      if (p.mode === 'forward_auth') res = await gateway.fetch(forwardAuth(), env, ctx);
      else if (p.mode === 'sampled_forward_auth')
        res = await gateway.fetch(forwardAuth(), sampledEnv, ctx);
      else if (p.mode === 'required_forward_auth')
        res = await requiredWork(forwardAuth(), p.jwt, p.token);
      else if (p.mode === 'required_introspect')
        res = await requiredWork(introspection(), p.jwt, p.token);
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
  /** bench/required/worker.ts, built: the `required_*` modes (left out without it). */
  required: Bundle | undefined;
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

/** Modes whose calls into the runtime are counted (once each, after the warm-up). */
export type CountedMode =
  'introspect' | 'forward_auth' | 'required_introspect' | 'required_forward_auth';

/** Calls into the runtime one answer makes: their number, and which (`Headers.get 5, …`). */
export type HotPathCalls = Partial<Record<CountedMode, { total: number; detail: string }>>;

export async function measureHotPath(
  o: HotPathOptions,
): Promise<{ timings: HotPathTimings; calls: HotPathCalls }> {
  const { bundle, project } = o;
  const output = workerOutput();
  const runtime = runtimeConfig('hot-path', bundle, project, o.bindings);
  const manifest = runtime.manifest!;
  const { required } = o;
  const modes = hotModes(required !== undefined);
  const mf = new Miniflare({
    workers: [
      {
        config: {
          ...runtime,
          // The wrapper is the entry point; it imports the bundle's main module and the
          // required-work module.
          manifest: withEntryWrapper(
            required === undefined
              ? manifest
              : {
                  ...manifest,
                  modules: {
                    ...manifest.modules,
                    [REQUIRED_MODULE]: {
                      type: 'esm',
                      contents: readFileSync(required.mainPath, 'utf8'),
                    },
                  },
                },
            WRAPPER,
            (main) => wrapperSource(main, required !== undefined),
          ),
        },
      },
    ],
    enableDevRegistry: false,
    // The gateway's log lines go to a file, not through this timing process.
    ...output.options,
  });
  try {
    await mf.ready;
    /** One control request: the wrapper runs `mode` `n` times (or counts calls) and answers. */
    const control = (mode: string, n: number) =>
      mf.dispatchFetch('http://hot-path.bench/', {
        method: 'POST',
        body: JSON.stringify({ mode, n, jwt: o.callerJwt, token: o.token, app: o.app }),
      });
    const batch = async (mode: HotMode | typeof SAMPLED_WARM_UP, n: number): Promise<number> => {
      const t = performance.now();
      const res = await control(mode, n);
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
    /** One answer per counted mode, with every call into the runtime counted (the wrapper's `calls`). */
    const countCalls = async (): Promise<HotPathCalls> => {
      const res = await control('calls', 1);
      const text = await res.text();
      if (res.status !== 200)
        throw new Error(`counting runtime calls: ${res.status} ${text.slice(0, 200)}`);
      return JSON.parse(text) as HotPathCalls;
    };
    // The first introspection fills the cache (one GHES call); every later one must be a hit.
    for (const mode of modes) await batch(mode, 1);
    const before = await o.ghesCalls();
    // Warm-up: the JIT compiles the gateway's hot functions before anything counts.
    for (const mode of modes) await batch(mode, o.requests);
    await batch(SAMPLED_WARM_UP, o.requests);
    const calls = await countCalls();
    const timings: HotPathTimings = {
      hello: [],
      introspect: [],
      introspect_sampled: [],
      forward_auth: [],
      required_introspect: [],
      required_forward_auth: [],
    };
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? modes : [...modes].reverse();
      for (const mode of order) {
        timings[mode].push(await batch(mode, o.requests));
        // Untimed: the sampling gateway serves forward auths between its introspections each
        // round, as the main one does (see SAMPLED_WARM_UP).
        if (mode === 'introspect_sampled') await batch(SAMPLED_WARM_UP, o.requests);
      }
    }
    const ghesCalls = (await o.ghesCalls()) - before;
    if (ghesCalls !== 0)
      throw new Error(
        `${ghesCalls} GHES calls during the warm-up and timed batches: the answers did not all come from the cache`,
      );
    return { timings, calls };
  } finally {
    await mf.dispose();
    output.dispose();
  }
}
