/**
 * Schema-stack candidate (b): zod/mini validating through @hono/standard-validator, the
 * document built with `z.toJSONSchema` on its first request (bench/floor/candidates/shape.ts has
 * the route).
 */
import { sValidator } from '@hono/standard-validator';
import { Hono } from 'hono';
import type { $ZodIssue } from 'zod/v4/core';
import { accepted, DOC_PATH, problem, ROUTE_PATH } from '../candidates/shape';
import { TokenCheck } from '../candidates/zod-mini';
import { zodMiniDocument } from '../candidates/zod-mini-document';
import { zodFieldErrors } from '../candidates/zod-issues';

const app = new Hono();
let document: string | undefined;

app.post(
  ROUTE_PATH,
  sValidator('json', TokenCheck, (result) => {
    // Standard Schema hands back zod's own issues.
    if (!result.success)
      return problem(zodFieldErrors(result.error as readonly $ZodIssue[], result.data));
    return undefined;
  }),
  (c) => accepted(c.req.valid('json').app),
);
app.get(DOC_PATH, (c) => {
  document ??= JSON.stringify(zodMiniDocument());
  return c.body(document, 200, { 'content-type': 'application/json' });
});

export default app;
