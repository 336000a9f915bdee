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

export async function measureHotPath(o: HotPathOptions): Promise<HotPathTimings> {
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
    const batch = async (mode: HotMode | typeof SAMPLED_WARM_UP, n: number): Promise<number> => {
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
    for (const mode of modes) await batch(mode, 1);
    const before = await o.ghesCalls();
    // Warm-up: the JIT compiles the gateway's hot functions before anything counts.
    for (const mode of modes) await batch(mode, o.requests);
    await batch(SAMPLED_WARM_UP, o.requests);
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
