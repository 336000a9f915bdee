/**
 * Schema-stack candidate (c1), "the document at build time": candidate (b)'s zod/mini validator
 * only; the OpenAPI document was generated from the same schema by
 * bench/floor/candidates/generate-static.ts and is served as a constant.
 */
import { sValidator } from '@hono/standard-validator';
import { Hono } from 'hono';
import type { $ZodIssue } from 'zod/v4/core';
import { accepted, DOC_PATH, problem, ROUTE_PATH } from '../candidates/shape';
import { TokenCheck } from '../candidates/zod-mini';
import { zodFieldErrors } from '../candidates/zod-issues';
import { DOCUMENT } from './openapi.gen';

const app = new Hono();

app.post(
  ROUTE_PATH,
  sValidator('json', TokenCheck, (result) => {
    if (!result.success)
      return problem(zodFieldErrors(result.error as readonly $ZodIssue[], result.data));
    return undefined;
  }),
  (c) => accepted(c.req.valid('json').app),
);
app.get(DOC_PATH, (c) => c.body(DOCUMENT, 200, { 'content-type': 'application/json' }));

export default app;
