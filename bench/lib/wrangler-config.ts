/**
 * One reader of a wrangler config, shared by the benchmark, the end-to-end test and the soak: what
 * the worker deploys with (compatibility settings, KV and rate-limiting bindings, the top-level
 * `[vars]`, `[secrets] required`), read through wrangler's own reader so that they run the gateway
 * as `wrangler deploy` would configure it.
 */

export interface DeployConfig {
  compatibilityDate: string;
  compatibilityFlags: string[];
  kvBindings: string[];
  /** Workers rate-limiting bindings (name, counter namespace, period in seconds). */
  rateLimits: Array<{ name: string; namespaceId: string; period: number }>;
  /** Top-level `[vars]`: the local defaults `npm start` and the tests run with. */
  vars: Record<string, unknown>;
  /** `[secrets] required`. */
  requiredSecrets: string[];
  /** Binding kinds from `kinds` that the config declares (wrangler fills absent ones with []). */
  declaredOf(kinds: readonly string[]): string[];
}

export interface ReadOptions {
  /**
   * Runs wrangler's import; the end-to-end harness passes a wrapper that removes the signal
   * handlers wrangler installs, because the suite handles those signals itself.
   */
  around?: <T>(start: () => Promise<T>) => Promise<T>;
}

/** Whether a config section holds any binding. */
function declares(section: unknown): boolean {
  if (Array.isArray(section)) return section.length > 0;
  if (typeof section !== 'object' || section === null) return false;
  if (typeof (section as { binding?: unknown }).binding === 'string') return true;
  return Object.values(section).some(declares);
}

export async function readDeployConfig(
  configPath: string,
  options: ReadOptions = {},
): Promise<DeployConfig> {
  const read = async () => {
    const wrangler = await import('wrangler');
    return wrangler.unstable_readConfig({ config: configPath }, { hideWarnings: true });
  };
  const config = await (options.around ?? ((start) => start()))(read);
  if (config.compatibility_date === undefined)
    throw new Error(`${configPath} sets no compatibility_date`);
  const sections = config as unknown as Record<string, unknown>;
  return {
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    kvBindings: config.kv_namespaces.map((kv: { binding: string }) => kv.binding),
    rateLimits: (config.ratelimits ?? []).map(
      (r: { name: string; namespace_id: string; simple: { period: number } }) => ({
        name: r.name,
        namespaceId: r.namespace_id,
        period: r.simple.period,
      }),
    ),
    vars: { ...config.vars },
    requiredSecrets: config.secrets?.required ?? [],
    declaredOf: (kinds) => kinds.filter((kind) => declares(sections[kind])),
  };
}
