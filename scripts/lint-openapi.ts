/**
 * `npm run lint:openapi`: the gateway's own /openapi.json (built from src/ with the local config,
 * as `npm run client:generate` builds it) through Redocly's OpenAPI linter with the rules in
 * redocly.yaml. Exits non-zero on any error or warning; CI runs it (.ci/run).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, gatewayDocument } from './lib/client-schema';

const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
try {
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(await gatewayDocument(), null, 2));
  const run = spawnSync(
    join(ROOT, 'node_modules/.bin/redocly'),
    ['lint', file, '--config', join(ROOT, 'redocly.yaml'), '--max-problems', '200'],
    {
      stdio: 'inherit',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
