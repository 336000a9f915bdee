/**
 * One way to build the worker exactly as it deploys, shared by the benchmark, the end-to-end test
 * and the soak: `wrangler deploy --dry-run --outdir …` bundles the config's entry and uploads
 * nothing. A failed build throws with wrangler's own output, so it reads as a build error rather
 * than as a test result or a benchmark figure.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DryRunBuildOptions {
  /** Project root (where node_modules/wrangler lives). */
  root: string;
  configPath: string;
  outDir: string;
  /** Named in the error when the build fails. */
  label: string;
  /** esbuild metafile path, for bundle composition. */
  metafile?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DryRunBuild {
  /** Absolute path of the main module. */
  mainPath: string;
  /** Every module the upload would contain (no source maps, no README), sorted. */
  modules: string[];
}

export async function dryRunBuild(o: DryRunBuildOptions): Promise<DryRunBuild> {
  const args = [
    join(o.root, 'node_modules/wrangler/bin/wrangler.js'),
    'deploy',
    '--dry-run',
    '--config',
    o.configPath,
    '--outdir',
    o.outDir,
  ];
  if (o.metafile !== undefined) args.push('--metafile', o.metafile);
  try {
    await run(process.execPath, args, {
      cwd: o.root,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
      timeout: o.timeoutMs ?? 120_000,
      // wrangler's bin forwards SIGTERM to the CLI process it starts.
      ...(o.signal !== undefined && { signal: o.signal }),
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    const output = `${err.stdout ?? ''}\n${err.stderr ?? ''}`.trim() || err.message;
    throw new Error(`wrangler could not build ${o.label} (${o.configPath}):\n${output}`);
  }
  const modules = readdirSync(o.outDir)
    .filter((f) => /\.(m?js|cjs|wasm|bin|txt|html|sql)$/.test(f) && !f.endsWith('.map'))
    .sort();
  const main = modules.find((m) => m === 'index.js') ?? modules.find((m) => /\.m?js$/.test(m));
  if (main === undefined) throw new Error(`wrangler wrote no module for ${o.label} in ${o.outDir}`);
  return { mainPath: join(o.outDir, main), modules };
}
