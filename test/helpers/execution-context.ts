/**
 * The ExecutionContext a test hands the gateway's fetch: `waitUntil` given the work the gateway
 * leaves running after its answer (cache writes), or dropping it; no pass-through on exceptions.
 */
export function executionContext(
  waitUntil: (promise: Promise<unknown>) => void = () => undefined,
): ExecutionContext {
  return { waitUntil, passThroughOnException: () => undefined } as unknown as ExecutionContext;
}
