/** Values handed from test/global-setup.ts (Node) to the tests (workerd). */
declare module 'vitest' {
  export interface ProvidedContext {
    /** FC_SEED (test/helpers/fast-check.ts): '' (the fixed seed), an integer, or 'random'. */
    fcSeed: string;
    /** FC_RUNS (test/helpers/fast-check.ts): '' (each property's own count) or a positive integer. */
    fcRuns: string;
    /**
     * GitHub's OpenAPI descriptions of GHES, cut to the OAuth-app token endpoints
     * (test/ghes-openapi.node.ts); read them through test/helpers/ghes-contract.ts.
     */
    /** File → its imports and length (test/import-graph.node.ts), for test/architecture.test.ts. */
    importGraph: Record<string, { imports: string[]; lines: number }>;
    ghesContract: {
      /** From the aliased `@octokit/openapi` devDependencies: on every clone. */
      npm: GhesContractSource;
      /** From ../shared/ghes-openapi, or null where the clone has no such neighbour. */
      shared: GhesContractSource | null;
      /** Where ../shared/ghes-openapi/ghes-oauth-endpoints.json was looked for. */
      sharedPath: string;
    };
  }
}

export interface GhesContractSource {
  /** Release ("3.12") → a self-contained OpenAPI 3.0 document of the contract endpoints. */
  versions: Record<string, Record<string, unknown>>;
  /** Release → a document of `GET /user` alone (test/ghes-openapi.node.ts USER_PATHS); npm only. */
  user: Record<string, Record<string, unknown>>;
  /** Release → where its document came from. */
  from: Record<string, string>;
  /** Release → what its document lacks, where it is an older revision of GitHub's description. */
  older: Record<string, string>;
}
