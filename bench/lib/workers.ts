/**
 * Runs a built bundle under miniflare 4 (workerd plus miniflare's local KV simulation). Every
 * worker of the bench — baseline, gateway, peer — is started by this one function with the same
 * compatibility settings, so their figures differ only by the code they run.
 */
import { Miniflare } from 'miniflare';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Bundle, ProjectConfig } from './build';
import type { Via } from './options';

export interface RunningWorker {
  name: string;
  /** Port of miniflare's inspector proxy when started with one (`--profile`). */
  inspectorPort: number | undefined;
  /** Origin the load generator talks to, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Last lines the worker wrote to stdout/stderr, for diagnostics when a scenario fails. */
  recentOutput(): string[];
  dispose(): Promise<void>;
}

/** Bytes of the worker's most recent output kept for diagnostics. */
const KEEP_BYTES = 16 * 1024;

/**
 * Keeps only the tail of the worker's output. The gateway logs one JSON line per request (that
 * cost stays inside the isolate and so in the figures); here, in the load generator's process,
 * the output is drained as raw buffers and only the last few KiB are kept. Nothing is decoded or
 * split per line while the load runs: at 10 000 lines/s that work would compete with the load
 * generator for the same CPU and handicap every worker that logs against the baseline that does
 * not. Lines are cut only when a scenario fails and asks for them.
 */
export function tailOf(streams: Readable[]): () => string[] {
  const chunks: Buffer[] = [];
  let kept = 0;
  for (const s of streams) {
    s.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      kept += chunk.length;
      while (kept - chunks[0]!.length >= KEEP_BYTES) kept -= chunks.shift()!.length;
    });
  }
  return () => Buffer.concat(chunks).toString('utf8').split('\n').slice(-50);
}

export function moduleList(
  bundle: Bundle,
): Array<{ type: 'ESModule' | 'CompiledWasm' | 'Text' | 'Data'; path: string }> {
  const main = bundle.mainPath;
  const rest = bundle.modules.map((m) => join(bundle.outDir, m)).filter((p) => p !== main);
  const type = (p: string) =>
    /\.m?js$/.test(p)
      ? 'ESModule'
      : p.endsWith('.wasm')
        ? 'CompiledWasm'
        : p.endsWith('.bin')
          ? 'Data'
          : 'Text';
  // The first module is the entry point.
  return [main, ...rest].map((path) => ({ type: type(path), path }));
}

/**
 * What every worker of the bench gets from miniflare besides its name and socket: its modules, the
 * gateway config's compatibility settings, KV, the rate-limiting bindings and its vars.
 */
export function runtimeOptions(
  bundle: Bundle,
  project: ProjectConfig,
  bindings: Record<string, string>,
) {
  return {
    // The module list is given explicitly: with `scriptPath` alone miniflare parses the bundle in
    // Node to find its imports, which would add a harness cost to every cold start.
    modulesRoot: bundle.outDir,
    modules: moduleList(bundle),
    compatibilityDate: project.compatibilityDate,
    compatibilityFlags: project.compatibilityFlags,
    kvNamespaces: project.kvBindings,
    // Bound as configured, with the limit raised out of reach: the bench is one caller sending
    // far more than any caller's budget, and a 429 would end the run. The binding's own cost
    // (one call per request) stays in the figures.
    ratelimits: Object.fromEntries(
      project.rateLimits.map((r) => [
        r.name,
        { simple: { limit: 1_000_000_000, period: r.period } },
      ]),
    ),
    bindings: { ...project.vars, ...bindings } as Record<string, string>,
  };
}

function workerOptions(
  name: string,
  bundle: Bundle,
  project: ProjectConfig,
  bindings: Record<string, string>,
  via: Via,
) {
  return {
    name,
    ...runtimeOptions(bundle, project, bindings),
    ...(via === 'direct' && { unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }] }),
  };
}

export async function startWorker(
  bundle: Bundle,
  project: ProjectConfig,
  bindings: Record<string, string>,
  via: Via,
  inspectorPort?: number,
): Promise<RunningWorker> {
  const { urls, recentOutput, dispose } = await startCopies(
    bundle,
    project,
    bindings,
    via,
    1,
    inspectorPort,
  );
  return { name: bundle.name, url: urls[0]!, inspectorPort, recentOutput, dispose };
}

export interface RunningCopies {
  /** Origin of each copy. */
  urls: string[];
  recentOutput(): string[];
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
): Promise<RunningCopies> {
  let recent: () => string[] = () => [];
  const names = Array.from({ length: copies }, (_, i) =>
    copies === 1 ? bundle.name : `${bundle.name}-${i}`,
  );
  const mf = new Miniflare({
    workers: names.map((name) => ({
      ...workerOptions(name, bundle, project, bindings, via),
      ...(inspectorPort !== undefined && { unsafeInspectorProxy: true }),
    })),
    ...(inspectorPort !== undefined && { inspectorPort }),
    // In-memory KV, nothing persisted between runs.
    kvPersist: false,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      recent = tailOf([stdout, stderr]);
    },
  });
  const entry = await mf.ready;
  const urls: string[] = [];
  for (const name of names) {
    if (via === 'direct') urls.push(new URL(await mf.unsafeGetDirectURL(name)).origin);
    else if (copies === 1) urls.push(new URL(entry).origin);
    else throw new Error('several copies of a worker need --via direct');
  }
  return { urls, recentOutput: () => recent(), dispose: () => mf.dispose() };
}
