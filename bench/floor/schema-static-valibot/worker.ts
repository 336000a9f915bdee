/**
 * Schema-stack candidate (c2), "the document at build time": candidate (a1)'s valibot validator
 * only; the OpenAPI document was generated from the same schema by
 * bench/floor/candidates/generate-static.ts and is served as a constant.
 */
import { sValidator } from '@hono/standard-validator';
import { Hono } from 'hono';
import type { InferIssue } from 'valibot';
import { accepted, DOC_PATH, problem, ROUTE_PATH } from '../candidates/shape';
import { TokenCheck, valibotFieldErrors } from '../candidates/valibot';
import { DOCUMENT } from './openapi.gen';

const app = new Hono();

app.post(
  ROUTE_PATH,
  sValidator('json', TokenCheck, (result) => {
    if (!result.success)
      return problem(valibotFieldErrors(result.error as readonly InferIssue<typeof TokenCheck>[]));
    return undefined;
  }),
  (c) => accepted(c.req.valid('json').app),
);
app.get(DOC_PATH, (c) => c.body(DOCUMENT, 200, { 'content-type': 'application/json' }));

export default app;
