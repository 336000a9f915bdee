/**
 * `npm run client:generate`: rewrites client/src/schema.gen.ts from the gateway's current
 * OpenAPI document (scripts/lib/client-schema.ts). Run it after changing a route or a schema;
 * test/client/generated.node.test.ts fails until the committed file matches.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientSchemaSource, gatewayDocument, ROOT, SCHEMA_FILE } from './lib/client-schema';

const path = join(ROOT, SCHEMA_FILE);
const source = await clientSchemaSource(await gatewayDocument());
let before = '';
try {
  before = readFileSync(path, 'utf8');
} catch {
  // First generation.
}
writeFileSync(path, source);
console.log(`${SCHEMA_FILE}: ${before === source ? 'unchanged' : 'written'}`);
