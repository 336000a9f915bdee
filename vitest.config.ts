import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/** Tests that need Node itself (files, child tools): `*.node.test.ts`, outside workerd. */
const NODE_TESTS = 'test/**/*.node.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
        test: {
          name: 'workers',
          include: ['test/**/*.test.ts', 'emulator/**/*.test.ts'],
          exclude: [NODE_TESTS, '**/node_modules/**'],
          globalSetup: ['./test/global-setup.ts'],
          setupFiles: ['./test/setup.ts', './test/fast-check.setup.ts'],
          // fast-check's seed policy (test/helpers/fast-check.ts): unset = the suite's fixed seed.
          provide: { fcSeed: process.env['FC_SEED'] ?? '', fcRuns: process.env['FC_RUNS'] ?? '' },
        },
      },
      {
        // The typed client's freshness (test/client/generated.node.test.ts): openapi-typescript
        // and prettier run in Node only.
        test: { name: 'node', include: [NODE_TESTS], environment: 'node' },
      },
    ],
  },
});
