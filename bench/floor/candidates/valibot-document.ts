/**
 * Candidate (a)'s OpenAPI document from its valibot schema with @valibot/to-json-schema
 * (draft 2020-12, the dialect of OpenAPI 3.1). Used at run time by bench/floor/schema-valibot and
 * at build time by bench/floor/candidates/generate-static.ts.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import { documentAround } from './shape';
import { TokenCheck } from './valibot';

export function valibotDocument(): object {
  const schema: Record<string, unknown> = {
    ...toJsonSchema(TokenCheck, { target: 'draft-2020-12', errorMode: 'throw' }),
  };
  delete schema.$schema;
  return documentAround(schema);
}
