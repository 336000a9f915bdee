/**
 * Step 6c: cold starts in workerd of the gateway and of the floors (bench/floor/), against the
 * hello-world baseline in the same trials. The gateway's and the stack's floors' first request is
 * an introspection without credentials (401, so no GHES in it); the schema-stack candidates' is
 * their valid `POST /check` (200), then their `GET /openapi.json` is timed too.
 */
import { DOC_PATH, ROUTE_PATH, VALID_BODY } from '../floor/candidates/shape';
import type { Bundle, ProjectConfig } from '../lib/build';
import { gatewayBindings } from '../lib/gateway-env';
import type { RequestShape } from '../lib/load';
import { runProbe } from '../lib/probes';
import type { StartupReport } from '../probes/startup';
import { introspectRequest } from '../lib/scenarios';
import { median, round } from '../lib/stats';
import { startCopies } from '../lib/workers';
import type { Bundles } from './build';
import { GHES_VERSION, root, say, skip, type Context } from './context';
import type { Ghes } from './start-emulator';

/** One worker whose cold start is measured against the baseline's. */
interface ColdSubject {
  name: string;
  bundle: Bundle;
  env: Record<string, string>;
  /** Whether its first answer is the one it is meant to give (else the trials stop). */
  accepts(status: number): boolean;
  /** Its first request, when not the trials' introspection. */
  request?: RequestShape;
  /** A path then requested with GET (expecting 200) and timed, after the first answer. */
  docPath?: string;
}

/** Per subject: module startup per isolate beyond the baseline's, and its first answers. */
interface ColdTimings {
  baselineFirstMs: number[];
  subjects: Map<string, { startupMs: number[]; firstMs: number[]; docMs: number[] }>;
}

interface Trials {
  project: ProjectConfig;
  shape: RequestShape;
  trials: number;
  copies: number;
}

/** Starts `copies` isolates of `w` in one process; its ready time, and each one's first answer. */
async function coldTrial(
  w: ColdSubject,
  t: Trials,
  first: number[],
  doc: number[],
): Promise<number | { failed: string }> {
  const shape = w.request ?? t.shape;
  const start = performance.now();
  const running = await startCopies(w.bundle, t.project, w.env, 'direct', t.copies);
  const ready = performance.now() - start;
  try {
    for (const url of running.urls) {
      const at = performance.now();
      const res = await fetch(`${url}${shape.path}`, {
        method: shape.method,
        headers: shape.headers,
        body: shape.body!,
      });
      await res.arrayBuffer();
      first.push(performance.now() - at);
      if (!w.accepts(res.status))
        return { failed: `the ${w.name} answered ${res.status} to its first request` };
      if (w.docPath === undefined) continue;
      const docAt = performance.now();
      const docRes = await fetch(`${url}${w.docPath}`);
      await docRes.arrayBuffer();
      doc.push(performance.now() - docAt);
      if (docRes.status !== 200)
        return { failed: `the ${w.name} answered ${docRes.status} to GET ${w.docPath}` };
    }
  } finally {
    await running.dispose();
  }
  return ready;
}

/**
 * One workerd process per worker per trial runs `copies` isolates of it; workerd compiles and
 * evaluates each one's modules before it is ready, so
 * (ready time with N copies − ready time with N hello worlds) / N is one isolate's startup beyond a
 * hello world's, with the process start cancelled out. Then each isolate's first answer is timed.
 * The order of the workers is reversed every other trial so that drift during the trials cancels.
 */
async function coldStarts(
  baseline: Bundle,
  subjects: readonly ColdSubject[],
  t: Trials,
): Promise<ColdTimings | { failed: string }> {
  const lineup: ColdSubject[] = [
    { name: 'baseline', bundle: baseline, env: {}, accepts: (s) => s < 500 },
    ...subjects,
  ];
  const ready = new Map(lineup.map((w) => [w.name, [] as number[]]));
  const first = new Map(lineup.map((w) => [w.name, [] as number[]]));
  const doc = new Map(lineup.map((w) => [w.name, [] as number[]]));
  for (let i = 0; i < t.trials; i++) {
    for (const w of i % 2 === 0 ? lineup : [...lineup].reverse()) {
      const r = await coldTrial(w, t, first.get(w.name)!, doc.get(w.name)!);
      if (typeof r !== 'number') return r;
      ready.get(w.name)!.push(r);
    }
  }
  const base = ready.get('baseline')!;
  return {
    baselineFirstMs: first.get('baseline')!,
    subjects: new Map(
      subjects.map((w) => [
        w.name,
        {
          startupMs: ready.get(w.name)!.map((r, i) => (r - base[i]!) / t.copies),
          firstMs: first.get(w.name)!,
          docMs: doc.get(w.name)!,
        },
      ]),
    ),
  };
}

function record(ctx: Context, bundles: Bundles, timed: ColdTimings): void {
  const f = ctx.figures;
  f.baseline_first_request_ms = round(median(timed.baselineFirstMs), 2);
  /** Startup + first answer − the baseline's first answer, as cold_first_answer_extra_ms. */
  const extra = (name: string): { startup: number; first: number; extra: number } => {
    const t = timed.subjects.get(name)!;
    const startup = round(median(t.startupMs), 2);
    const first = round(median(t.firstMs), 2);
    return { startup, first, extra: round(startup + first - f.baseline_first_request_ms!, 2) };
  };
  if (timed.subjects.has('gateway')) {
    const g = extra('gateway');
    f.startup_ms = g.startup;
    f.first_request_ms = g.first;
    f.cold_first_answer_extra_ms = g.extra;
    say(
      `startup: ${f.startup_ms} ms per gateway isolate beyond the baseline's; first answer ${f.first_request_ms} ms ` +
        `(baseline ${f.baseline_first_request_ms} ms)`,
    );
  }
  for (const { floor, bundle } of bundles.floors) {
    const t = extra(bundle.name);
    f[floor.extra] = t.extra;
    say(
      `startup: ${bundle.name} ${t.startup} ms per isolate beyond the baseline's, first answer ${t.first} ms; cold answer ${t.extra} ms later than the baseline's`,
    );
  }
  const hono = f.floor_hono_cold_extra_ms;
  for (const { index, bundle } of bundles.candidates) {
    const t = extra(bundle.name);
    const per = timed.subjects.get(bundle.name)!.startupMs;
    const c = ctx.candidates[index]!;
    c.startup_ms = t.startup;
    c.first_ms = t.first;
    c.cold_extra_ms = t.extra;
    c.doc_first_ms = round(median(timed.subjects.get(bundle.name)!.docMs), 2);
    c.vs_hono_floor = hono === null || hono <= 0 ? null : round(t.extra / hono, 2);
    say(
      `startup: ${bundle.name} ${t.startup} ms per isolate beyond the baseline's, first answer ${t.first} ms, document ${c.doc_first_ms} ms; cold answer ${t.extra} ms later than the baseline's (startup per trial ${per.map((x) => x.toFixed(1)).join(' / ')})`,
    );
  }
}

/**
 * The candidates' module startup in fresh V8 contexts in Node (bench/probes/startup.ts), beside
 * the hono floor's: no process start in it, so far less noise than the workerd trials on a busy
 * machine, but no first answer either.
 */
async function nodeStartups(ctx: Context, bundles: Bundles): Promise<void> {
  const hono = bundles.floors.find(({ floor }) => floor.dir === 'hono');
  if (bundles.candidates.length === 0 || hono === undefined) return;
  const iterations = String(ctx.o.startupIterations);
  const probe = async (bundle: Bundle): Promise<number | null> => {
    const r = await runProbe<StartupReport>(
      root,
      'startup.ts',
      ['--experimental-vm-modules', '--no-warnings'],
      [bundle.mainPath, iterations],
    );
    if (!r.ok) say(`startup profile of ${bundle.name} failed: ${r.reason}`);
    return r.ok ? round(r.value.totalMs, 2) : null;
  };
  say(
    `startup profile in Node: ${iterations} fresh-context evaluations of the hono floor and each candidate`,
  );
  const base = await probe(hono.bundle);
  ctx.figures.floor_hono_startup_node_ms = base;
  for (const { index, bundle } of bundles.candidates) {
    const c = ctx.candidates[index]!;
    c.startup_node_ms = await probe(bundle);
    c.node_vs_hono_floor =
      c.startup_node_ms === null || base === null || base <= 0
        ? null
        : round(c.startup_node_ms / base, 2);
    say(`startup profile in Node: ${bundle.name} ${c.startup_node_ms} ms (hono floor ${base} ms)`);
  }
}

export async function coldStartProbe(
  ctx: Context,
  project: ProjectConfig,
  bundles: Bundles,
  ghes: Ghes,
): Promise<void> {
  const { baseline } = bundles;
  if (!(ctx.wants('startup') || ctx.wants('floors')) || baseline === undefined) return;
  // --only floors leaves the gateway out (it is then not built).
  const gateway = ctx.wants('startup') ? bundles.gateway : undefined;
  const { startupTrials: trials, startupCopies: copies } = ctx.o;
  const { fixture, caller } = ghes;
  // The first request needs no GHES; without the emulator the gateway points at a closed port.
  const env =
    ghes.gatewayEnv ??
    gatewayBindings({
      ghesBaseUrl: 'http://127.0.0.1:9/api/v3',
      ghesVersion: GHES_VERSION,
      app: fixture.app,
      caller,
    });
  const check: RequestShape = {
    method: 'POST',
    path: ROUTE_PATH,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(VALID_BODY),
  };
  const subjects: ColdSubject[] = [
    ...(gateway === undefined
      ? []
      : [{ name: 'gateway', bundle: gateway, env, accepts: (s: number) => s < 500 }]),
    // The floors need no bindings; each has exactly one answer to its request.
    ...bundles.floors.map(({ bundle }) => ({
      name: bundle.name,
      bundle,
      env: {},
      accepts: (s: number) => s === 401,
    })),
    ...bundles.candidates.map(({ bundle }) => ({
      name: bundle.name,
      bundle,
      env: {},
      accepts: (s: number) => s === 200,
      request: check,
      docPath: DOC_PATH,
    })),
  ];
  say(
    `startup in workerd: ${trials} × ${copies} isolates of each of baseline, ${subjects.map((s) => s.name).join(', ')}`,
  );
  const shape = {
    ...introspectRequest(fixture, fixture.token),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
  const timed = await coldStarts(baseline, subjects, { project, shape, trials, copies });
  if ('failed' in timed) skip(ctx, ['startup', 'floors'], timed.failed);
  else record(ctx, bundles, timed);
  await nodeStartups(ctx, bundles);
}
