/**
 * Startup probe: how long a fresh isolate spends turning a worker bundle into a ready module
 * (parse + compile of the top level, then evaluation of every top-level statement — the part of
 * a cold start that the code controls).
 *
 * Method: each iteration creates a new V8 context (fresh globals, no inline caches or compiled
 * code from earlier iterations), compiles the bundle there as an ES module and evaluates it.
 * A unique trailing comment per iteration defeats V8's per-isolate compilation cache, so every
 * iteration parses and compiles from scratch, as a new Workers isolate does. The context gets the
 * Web APIs a worker sees at top level (from Node's implementations). Node's V8 is older than
 * workerd's, so the figure is an estimate of the same work, compared with the baseline bundle
 * measured the same way.
 *
 * Run: node --experimental-vm-modules --import tsx bench/probes/startup.ts <bundle.js> <iterations>
 * Prints one JSON line: { compileMs, evaluateMs, totalMs } (medians) or { error }.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import vm from 'node:vm';
import { median } from '../lib/stats';

const WEB_GLOBALS = [
  'URL',
  'URLSearchParams',
  'TextEncoder',
  'TextDecoder',
  'crypto',
  'Request',
  'Response',
  'Headers',
  'fetch',
  'FormData',
  'Blob',
  'File',
  'ReadableStream',
  'WritableStream',
  'TransformStream',
  'CompressionStream',
  'DecompressionStream',
  'AbortController',
  'AbortSignal',
  'Event',
  'EventTarget',
  'atob',
  'btoa',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'queueMicrotask',
  'structuredClone',
  'performance',
  'console',
] as const;

function workerGlobals(): vm.Context {
  const g: Record<string, unknown> = {};
  for (const name of WEB_GLOBALS) g[name] = (globalThis as Record<string, unknown>)[name];
  g['navigator'] = { userAgent: 'Cloudflare-Workers' };
  const context = vm.createContext(g);
  vm.runInContext('globalThis.self = globalThis;', context);
  return context;
}

async function evaluateOnce(
  mainPath: string,
  sources: Map<string, string>,
  iteration: number,
): Promise<{ compileMs: number; evaluateMs: number }> {
  const context = workerGlobals();
  let compileMs = 0;
  const compile = (path: string): vm.SourceTextModule => {
    let source = sources.get(path);
    if (source === undefined) {
      source = readFileSync(path, 'utf8');
      sources.set(path, source);
    }
    const t = performance.now();
    const mod = new vm.SourceTextModule(`${source}\n//# bench-iteration ${iteration}`, {
      context,
      identifier: path,
    });
    compileMs += performance.now() - t;
    return mod;
  };
  const cache = new Map<string, vm.SourceTextModule>();
  const main = compile(mainPath);
  await main.link((specifier, referencing) => {
    if (!specifier.startsWith('.'))
      throw new Error(
        `the bundle imports "${specifier}", which this probe cannot provide (runtime module)`,
      );
    const path = resolve(dirname(referencing.identifier), specifier);
    let mod = cache.get(path);
    if (mod === undefined) {
      mod = compile(path);
      cache.set(path, mod);
    }
    return mod;
  });
  const t = performance.now();
  await main.evaluate();
  const evaluateMs = performance.now() - t;
  const handler = (main.namespace as { default?: { fetch?: unknown } }).default;
  if (typeof handler?.fetch !== 'function')
    throw new Error('the bundle has no default export with a fetch handler');
  return { compileMs, evaluateMs };
}

/** What the probe prints (bench/steps/startup-probe.ts reads it). */
export interface StartupReport {
  compileMs: number;
  evaluateMs: number;
  totalMs: number;
  iterations: number;
}

async function main(): Promise<void> {
  const [bundle, iterationsArg] = process.argv.slice(2);
  if (bundle === undefined) throw new Error('usage: startup.ts <bundle.js> [iterations]');
  const iterations = Number(iterationsArg ?? '50');
  const sources = new Map<string, string>();
  // Warm-up: the probe's own code paths (vm, module linking) get compiled first.
  for (let i = 0; i < 3; i++) await evaluateOnce(bundle, sources, -1 - i);
  const compile: number[] = [];
  const evaluate: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const r = await evaluateOnce(bundle, sources, i);
    compile.push(r.compileMs);
    evaluate.push(r.evaluateMs);
    total.push(r.compileMs + r.evaluateMs);
  }
  const report: StartupReport = {
    compileMs: median(compile),
    evaluateMs: median(evaluate),
    totalMs: median(total),
    iterations,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((e: unknown) => {
  process.stdout.write(
    `${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`,
  );
  process.exitCode = 1;
});
