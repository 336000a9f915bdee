/**
 * Candidate (b)'s OpenAPI document from its zod/mini schema with zod's own `z.toJSONSchema`
 * (JSON Schema 2020-12, the dialect of OpenAPI 3.1); the schema becomes a component through a
 * registry. Used at run time by bench/floor/schema-zod-mini and at build time by
 * bench/floor/candidates/generate-static.ts.
 */
import * as z from 'zod/mini';
import { COMPONENT, documentAround } from './shape';
import { TokenCheck } from './zod-mini';

export function zodMiniDocument(): object {
  const registry = z.registry<{ id: string }>();
  registry.add(TokenCheck, { id: COMPONENT });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const schema: Record<string, unknown> = { ...schemas[COMPONENT] };
  delete schema.$schema;
  delete schema.$id;
  return documentAround(schema);
}
