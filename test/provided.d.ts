/** Values handed from test/global-setup.ts (Node) to the tests (workerd). */
declare module 'vitest' {
  export interface ProvidedContext {
    ghesOpenapiPath: string;
    /** The raw JSON text of ghes-oauth-endpoints.json, or null when ../shared is absent. */
    ghesOpenapi: string | null;
    /** FC_SEED (test/helpers/fast-check.ts): '' (the fixed seed), an integer, or 'random'. */
    fcSeed: string;
    /** FC_RUNS (test/helpers/fast-check.ts): '' (each property's own count) or a positive integer. */
    fcRuns: string;
  }
}
export {};
