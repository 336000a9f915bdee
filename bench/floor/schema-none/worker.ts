/**
 * Reference for the schema-stack candidates: the same route (bench/floor/candidates/shape.ts)
 * checked by hand, with no schema library, serving candidate (c1)'s pre-generated document. Not a
 * candidate (the checks and the document are two sources); it is the least this route costs on
 * Hono, so each candidate's figure beyond it is its library's.
 */
import { Hono } from 'hono';
import {
  accepted,
  APP_PATTERN,
  DOC_PATH,
  fieldOf,
  problem,
  ROUTE_PATH,
  TOKEN_PATTERN,
  type FieldError,
} from '../candidates/shape';
import { DOCUMENT } from '../schema-static-zod-mini/openapi.gen';

const PATTERNS: Record<string, RegExp> = {
  app: new RegExp(APP_PATTERN),
  token: new RegExp(TOKEN_PATTERN),
};
const OPTIONAL = new Set(['scope']);

function check(body: unknown): FieldError[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return [{ field: 'body', code: 'type' }];
  const errors: FieldError[] = [];
  for (const key of Object.keys(body))
    if (!(key in PATTERNS) && !OPTIONAL.has(key))
      errors.push({ field: fieldOf([key]), code: 'unknown_field' });
  for (const key of [...Object.keys(PATTERNS), ...OPTIONAL]) {
    const value = (body as Record<string, unknown>)[key];
    if (value === undefined) {
      if (!OPTIONAL.has(key)) errors.push({ field: fieldOf([key]), code: 'missing' });
    } else if (typeof value !== 'string') errors.push({ field: fieldOf([key]), code: 'type' });
    else if (PATTERNS[key]?.test(value) === false)
      errors.push({ field: fieldOf([key]), code: 'pattern' });
  }
  return errors;
}

const app = new Hono();

app.post(ROUTE_PATH, async (c) => {
  const body: unknown = await c.req.json().catch(() => undefined);
  const errors = check(body);
  return errors.length > 0 ? problem(errors) : accepted((body as { app: string }).app);
});
app.get(DOC_PATH, (c) => c.body(DOCUMENT, 200, { 'content-type': 'application/json' }));

export default app;
