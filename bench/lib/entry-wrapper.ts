/**
 * A worker's manifest with a wrapper module as its entry point: the wrapper (never written to
 * disk) imports the bundle's own main module and calls it, so the bundle runs exactly as built.
 * The in-isolate probe (hot-path.ts) and the KV host's client (remote-kv.ts) are such wrappers.
 */
import type { WorkerOptions } from 'miniflare';

export type Manifest = NonNullable<WorkerOptions['config']['manifest']>;

/** `source` gets the bundle's main module name, to import it as `./<name>`. */
export function withEntryWrapper(
  manifest: Manifest,
  name: string,
  source: (mainModule: string) => string,
): Manifest {
  return {
    ...manifest,
    mainModule: name,
    modules: {
      ...manifest.modules,
      [name]: { type: 'esm', contents: source(manifest.mainModule) },
    },
  };
}
