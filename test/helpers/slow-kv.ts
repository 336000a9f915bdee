/**
 * A KV namespace whose every `get` calls `afterRead` once the read is done: tests advance their
 * injected clock there, as workerd's clock moves across a real KV read's I/O.
 */
export function withSlowReads(kv: KVNamespace, afterRead: () => void): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop !== 'get' || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(
          target,
          args,
        )) as unknown;
        afterRead();
        return result;
      };
    },
  });
}
