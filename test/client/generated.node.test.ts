/**
 * client/src/schema.gen.ts is what `npm run client:generate` makes of the gateway's current
 * document: regenerated in memory from src/ and compared byte for byte. When it fails, run
 * `npm run client:generate` and commit the result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clientSchemaSource,
  gatewayDocument,
  ROOT,
  SCHEMA_FILE,
} from '../../scripts/lib/client-schema';

describe('the typed client', () => {
  it('is generated from the current OpenAPI document (npm run client:generate)', async () => {
    const committed = readFileSync(join(ROOT, SCHEMA_FILE), 'utf8');
    const fresh = await clientSchemaSource(await gatewayDocument());
    const at = firstDifference(fresh, committed);
    expect(at, `${SCHEMA_FILE} is stale (${at}): run npm run client:generate`).toBeUndefined();
  }, 60_000);
});

/** `line N: <generated line>` where the two texts part, or undefined when they are equal. */
function firstDifference(fresh: string, committed: string): string | undefined {
  if (fresh === committed) return undefined;
  const a = fresh.split('\n');
  const b = committed.split('\n');
  const i = a.findIndex((line, n) => line !== b[n]);
  const n = i === -1 ? a.length : i;
  return `line ${n + 1}: ${JSON.stringify(a[n] ?? '<end of file>')}`;
}
