/**
 * Builds each worker exactly as it would deploy: `wrangler deploy --dry-run --outdir …` bundles
 * the entry named by a wrangler config without uploading anything. The bench then runs those
 * files, not the TypeScript sources, so bundling choices (minification, dead code, polyfills)
 * show up in size, startup and throughput alike.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { dryRunBuild } from './wrangler-build';
import { readDeployConfig, type DeployConfig } from './wrangler-config';

export interface Bundle {
  name: string;
  /** Absolute path of the main module (the `main` of the config, bundled). */
  mainPath: string;
  outDir: string;
  /** Sum over every module the upload would contain (source maps excluded). */
  rawBytes: number;
  /** gzip of the same modules at zlib's default level, as `wrangler deploy` reports it. */
  gzipBytes: number;
  modules: string[];
  /** Bytes each package (or `src`) contributes to the bundle, largest first (esbuild metafile). */
  composition: Array<{ source: string; bytes: number }>;
}

export interface ProjectConfig extends DeployConfig {
  /** Binding kinds the config declares that the bench does not provide (it says so). */
  unsupported: string[];
}

/**
 * Runs `wrangler deploy --dry-run` for one config. Fails with wrangler's own output so that a
 * broken build reads as a build error, not as a benchmark figure.
 */
export async function buildWorker(
  root: string,
  name: string,
  configPath: string,
  outDir: string,
): Promise<Bundle> {
  rmSync(outDir, { recursive: true, force: true });
  const metaPath = `${outDir}.meta.json`;
  const { mainPath, modules } = await dryRunBuild({
    root,
    configPath,
    outDir,
    label: name,
    metafile: metaPath,
  });
  let rawBytes = 0;
  let gzipBytes = 0;
  for (const m of modules) {
    const data = readFileSync(join(outDir, m));
    rawBytes += statSync(join(outDir, m)).size;
    gzipBytes += gzipSync(data).length;
  }
  return {
    name,
    mainPath,
    outDir,
    rawBytes,
    gzipBytes,
    modules,
    composition: composition(metaPath),
  };
}

interface Metafile {
  outputs: Record<string, { inputs?: Record<string, { bytesInOutput: number }> }>;
}

/** Groups the bundle's inputs by npm package (`src` for our own code). */
function composition(metaPath: string): Array<{ source: string; bytes: number }> {
  let meta: Metafile;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Metafile;
  } catch {
    return [];
  }
  const bySource = new Map<string, number>();
  for (const [file, output] of Object.entries(meta.outputs)) {
    if (file.endsWith('.map')) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs ?? {})) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
      const source = pkg ?? (/(^|\/)src\//.test(input) ? 'src' : 'other');
      bySource.set(source, (bySource.get(source) ?? 0) + bytesInOutput);
    }
  }
  return [...bySource.entries()]
    .map(([source, bytes]) => ({ source, bytes }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** Binding kinds of a wrangler config that bench/lib/workers.ts does not bind. */
const UNSUPPORTED = [
  'durable_objects',
  'd1_databases',
  'r2_buckets',
  'queues',
  'services',
  'analytics_engine_datasets',
  'hyperdrive',
  'vectorize',
  'ai',
  'workflows',
] as const;

/**
 * Reads the deployed configuration (bench/lib/wrangler-config.ts), so that the bench runs the
 * gateway with the compatibility date, flags and bindings it deploys with.
 */
export async function readProjectConfig(configPath: string): Promise<ProjectConfig> {
  const config = await readDeployConfig(configPath);
  return { ...config, unsupported: config.declaredOf(UNSUPPORTED) };
}
