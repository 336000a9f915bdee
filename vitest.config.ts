import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
  test: {
    include: ['test/**/*.test.ts', 'emulator/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    setupFiles: ['./test/setup.ts', './test/fast-check.setup.ts'],
    // fast-check's seed policy (test/helpers/fast-check.ts): unset = the suite's fixed seed.
    provide: { fcSeed: process.env['FC_SEED'] ?? '', fcRuns: process.env['FC_RUNS'] ?? '' },
  },
});
