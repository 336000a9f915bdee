/**
 * Runs a built bundle under miniflare 5 (workerd plus miniflare's local KV simulation) — the same
 * miniflare, workerd and wrangler that `npm start` and the vitest plugin run. Every worker of the
 * bench — baseline, gateway, peer — is started by this one function with the same compatibility
 * settings, so their figures differ only by the code they run.
 */
import { Miniflare, type WorkerdStructuredLog, type WorkerOptions } from 'miniflare';
import { readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import type { Bundle, ProjectConfig } from './build';
import type { DeployConfig } from './wrangler-config';
import type { Via } from './options';
import { withRemoteKv } from './remote-kv';
import { KEEP_LINES, workerOutput } from './worker-output';

export interface RunningWorker {
  name: string;
  /** Port of miniflare's inspector proxy when started with one (`--profile`). */
  inspectorPort: number | undefined;
  /** Origin the load generator talks to, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Last lines the worker wrote to stdout/stderr, for diagnostics when a scenario fails. */
  recentOutput(): string[];
  /** The file its stdout (its log lines) is written to, while it runs (bench/lib/worker-output.ts). */
  outputPath: string;
  dispose(): Promise<void>;
}

/**
 * Keeps only the last lines a worker logged, for a worker that is not measured (the e2e suites):
 * miniflare 5 reads workerd's stdout/stderr itself and hands over one parsed line at a time (its
 * `handleStructuredLogs`; without a handler it prints every line). Measured workers write to a
 * file instead (bench/lib/worker-output.ts).
 */
export function logTail(max = KEEP_LINES): {
  handle(log: WorkerdStructuredLog): void;
  lines(): string[];
} {
  const kept: string[] = [];
  return {
    handle(log) {
      kept.push(log.message);
      if (kept.length > max) kept.shift();
    },
    lines: () => kept.join('\n').split('\n').slice(-max),
  };
}

type ModuleType = 'esm' | 'wasm' | 'text' | 'data';
type Manifest = NonNullable<WorkerOptions['config']['manifest']>;

/** One module of the manifest: its contents are read here (miniflare 5 takes no paths). */
export function moduleEntry(path: string): [ModuleType, string | Uint8Array<ArrayBuffer>] {
  const type: ModuleType = /\.m?js$/.test(path)
    ? 'esm'
    : path.endsWith('.wasm')
      ? 'wasm'
      : path.endsWith('.bin')
        ? 'data'
        : 'text';
  const bytes = readFileSync(path);
  return [type, type === 'esm' || type === 'text' ? bytes.toString('utf8') : new Uint8Array(bytes)];
}

/**
 * The bundle's modules as miniflare's manifest: names relative to the bundle's directory (as
 * `wrangler deploy` uploads them), the bundle's main module as the entry point.
 */
export function manifestOf(bundle: Bundle): Manifest {
  const name = (p: string) => relative(bundle.outDir, p).split(sep).join(posix.sep);
  const paths = [
    bundle.mainPath,
    ...bundle.modules.map((m) => join(bundle.outDir, m)).filter((p) => p !== bundle.mainPath),
  ];
  const modules: Manifest['modules'] = {};
  for (const path of paths) {
    const [type, contents] = moduleEntry(path);
    modules[name(path)] = { type, contents };
  }
  return { mainModule: name(bundle.mainPath), modulesRoot: bundle.outDir, modules };
}

type Env = NonNullable<WorkerOptions['config']['env']>;
/** What a JSON var binding holds (wrangler parsed it from TOML, so it is JSON). */
type Json = Extract<Env[string], { type: 'json' }>['value'];

/**
 * A worker's bindings as wrangler.toml configures them: its KV namespaces (each bound by name to
 * the namespace of the same id, as miniflare 4 did), its vars (strings as text, anything else as
 * JSON) and the given overrides and secrets; with `rateLimits`, its rate-limiting bindings too.
 */
export function envOf(
  project: DeployConfig,
  bindings: Record<string, unknown>,
  rateLimit?: (r: DeployConfig['rateLimits'][number]) => { limit: number; period: 10 | 60 },
): Env {
  const env: Env = {};
  for (const name of project.kvBindings) env[name] = { type: 'kv', id: name };
  if (rateLimit !== undefined)
    for (const r of project.rateLimits)
      env[r.name] = { type: 'rate-limit', namespace: r.namespaceId, simple: rateLimit(r) };
  for (const [name, value] of Object.entries({ ...project.vars, ...bindings }))
    env[name] =
      typeof value === 'string' ? { type: 'text', value } : { type: 'json', value: value as Json };
  return env;
}

/**
 * What every worker of the bench gets from miniflare besides its name and socket: its modules, the
 * gateway config's compatibility settings, KV, the rate-limiting bindings and its vars.
 */
export function runtimeConfig(
  name: string,
  bundle: Bundle,
  project: ProjectConfig,
  bindings: Record<string, string>,
  kvHost?: string,
): WorkerOptions['config'] {
  if (kvHost !== undefined) {
    // KV served by the KV host (bench/lib/remote-kv.ts): no simulated namespace in this process.
    const local = runtimeConfig(
      name,
      bundle,
      { ...project, kvBindings: [] },
      { ...bindings, BENCH_KV_URL: kvHost },
    );
    return { ...local, manifest: withRemoteKv(local.manifest!, project.kvBindings, name) };
  }
  return {
    name,
    compatibilityDate: project.compatibilityDate,
    compatibilityFlags: project.compatibilityFlags,
    // The module list is given explicitly, read from the bundle wrangler wrote: miniflare does
    // not parse the bundle in Node to find its imports, which would add a harness cost.
    manifest: manifestOf(bundle),
    // Bound as configured, with the limit raised out of reach: the bench is one caller sending
    // far more than any caller's budget, and a 429 would end the run. The binding's own cost
    // (one call per request) stays in the figures.
    env: envOf(project, bindings, (r) => ({
      limit: 1_000_000_000,
      period: r.period === 10 ? 10 : 60,
    })),
  };
}

function workerOptions(
  name: string,
  bundle: Bundle,
  project: ProjectConfig,
  bindings: Record<string, string>,
  via: Via,
  inspectorProxy: boolean,
  kvHost: string | undefined,
): WorkerOptions {
  return {
    config: runtimeConfig(name, bundle, project, bindings, kvHost),
    dev: {
      ...(via === 'direct' && { unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }] }),
      ...(inspectorProxy && { unsafeInspectorProxy: true }),
    },
  };
}

export async function startWorker(
  bundle: Bundle,
  project: ProjectConfig,
  bindings: Record<string, string>,
  via: Via,
  inspectorPort?: number,
  kvHost?: string,
): Promise<RunningWorker> {
  const { urls, recentOutput, outputPath, dispose } = await startCopies(
    bundle,
    project,
    bindings,
    via,
    1,
    inspectorPort,
    kvHost,
  );
  return { name: bundle.name, url: urls[0]!, inspectorPort, recentOutput, outputPath, dispose };
}

export interface RunningCopies {
  /** Origin of each copy. */
  urls: string[];
  recentOutput(): string[];
  outputPath: string;
  dispose(): Promise<void>;
}

/**
 * `copies` instances of one bundle in one workerd process, each its own worker (its own isolate,
 * its own KV namespace). workerd compiles and evaluates every worker's modules while it starts,
 * so the time to ready grows by one module startup per copy: that is how startup is measured.
 */
export async function startCopies(
  bundle: Bundle,
  project: ProjectConfig,
  bindings: Record<string, string>,
  via: Via,
  copies: number,
  inspectorPort?: number,
  /** Origin of a KV host (bench/lib/remote-kv.ts) serving the workers' KV bindings. */
  kvHost?: string,
): Promise<RunningCopies> {
  const output = workerOutput();
  const names = Array.from({ length: copies }, (_, i) =>
    copies === 1 ? bundle.name : `${bundle.name}-${i}`,
  );
  const mf = new Miniflare({
    workers: names.map((name) =>
      workerOptions(name, bundle, project, bindings, via, inspectorPort !== undefined, kvHost),
    ),
    ...(inspectorPort !== undefined && { inspectorPort }),
    // KV in miniflare's temporary directory, nothing persisted between runs; no dev registry, so
    // no other workerd on this machine (another run, `npm start`) is seen or sees these workers.
    enableDevRegistry: false,
    // The worker's output goes to a file, not through this process (bench/lib/worker-output.ts).
    ...output.options,
  });
  const entry = await mf.ready;
  const urls: string[] = [];
  for (const name of names) {
    if (via === 'direct') urls.push(new URL(await mf.unsafeGetDirectURL(name)).origin);
    else if (copies === 1) urls.push(new URL(entry).origin);
    else throw new Error('several copies of a worker need --via direct');
  }
  return {
    urls,
    recentOutput: output.lines,
    outputPath: output.path,
    dispose: async () => {
      await mf.dispose();
      output.dispose();
    },
  };
}
