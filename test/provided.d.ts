/** Values handed from test/global-setup.ts (Node) to the tests (workerd). */
declare module 'vitest' {
  export interface ProvidedContext {
    ghesOpenapiPath: string;
    /** The raw JSON text of ghes-oauth-endpoints.json, or null when ../shared is absent. */
    ghesOpenapi: string | null;
  }
}
export {};
