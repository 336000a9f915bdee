/**
 * A Workers KV namespace in memory, for StrictKv (test/helpers/strict-kv.ts) to wrap: exactly
 * the methods StrictKv calls (a get of one key or a bulk get of several), with KV's
 * read-your-writes within one isolate. For tests that loop many generated cases (properties) and check what the code wrote, not Workers KV's storage:
 * the local KV simulator costs a round trip per call, shared with every test file running
 * alongside, so a loop over it takes as long as the rest of the suite makes it. Tests of the KV
 * tier itself use the simulator (env.TOKEN_CACHE). Expiry is not modelled: test clocks are fixed.
 */
export function memoryKv(): KVNamespace {
  const store = new Map<string, string>();
  return {
    get: async (key: string | string[]) =>
      Array.isArray(key)
        ? new Map(key.map((k) => [k, store.get(k) ?? null]))
        : (store.get(key) ?? null),
    put: async (key: string, value: string) => void store.set(key, value),
    delete: async (key: string) => void store.delete(key),
    list: async (options: KVNamespaceListOptions = {}) => ({
      keys: [...store.keys()]
        .filter((name) => name.startsWith(options.prefix ?? ''))
        .sort()
        .map((name) => ({ name })),
      list_complete: true,
      cacheStatus: null,
    }),
  } as unknown as KVNamespace;
}
