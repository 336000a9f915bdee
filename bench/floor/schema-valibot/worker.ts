/**
 * Schema-stack candidate (a1): valibot validating through @hono/standard-validator, the document
 * built with @valibot/to-json-schema on its first request (bench/floor/candidates/shape.ts has
 * the route).
 */
import { sValidator } from '@hono/standard-validator';
import { Hono } from 'hono';
import type { InferIssue } from 'valibot';
import { accepted, DOC_PATH, problem, ROUTE_PATH } from '../candidates/shape';
import { TokenCheck, valibotFieldErrors } from '../candidates/valibot';
import { valibotDocument } from '../candidates/valibot-document';

const app = new Hono();
let document: string | undefined;

app.post(
  ROUTE_PATH,
  sValidator('json', TokenCheck, (result) => {
    // Standard Schema hands back valibot's own issues.
    if (!result.success)
      return problem(valibotFieldErrors(result.error as readonly InferIssue<typeof TokenCheck>[]));
    return undefined;
  }),
  (c) => accepted(c.req.valid('json').app),
);
app.get(DOC_PATH, (c) => {
  document ??= JSON.stringify(valibotDocument());
  return c.body(document, 200, { 'content-type': 'application/json' });
});

export default app;
