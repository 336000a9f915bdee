/**
 * Schema-stack candidate (d), the reference: `@hono/zod-openapi` as the gateway uses it today,
 * with the candidates' route (bench/floor/candidates/shape.ts): a `z.strictObject` body, the
 * document served by `app.doc31` and generated on its first request.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  accepted,
  APP_PATTERN,
  COMPONENT,
  DOC_INFO,
  DOC_PATH,
  PROBLEM_RESPONSE,
  problem,
  ROUTE_PATH,
  TOKEN_PATTERN,
} from '../candidates/shape';
import { zodFieldErrors } from '../candidates/zod-issues';

const TokenCheck = z
  .strictObject({
    app: z.string().regex(new RegExp(APP_PATTERN)),
    token: z.string().regex(new RegExp(TOKEN_PATTERN)),
    scope: z.string().optional(),
  })
  .openapi(COMPONENT);

const check = createRoute({
  method: 'post',
  path: ROUTE_PATH,
  operationId: 'check',
  request: { body: { required: true, content: { 'application/json': { schema: TokenCheck } } } },
  responses: {
    200: {
      description: 'Accepted',
      content: {
        'application/json': { schema: z.object({ active: z.boolean(), app: z.string() }) },
      },
    },
    422: PROBLEM_RESPONSE,
  },
});

const app = new OpenAPIHono({
  defaultHook: (result) => {
    if (result.success) return undefined;
    // @hono/zod-validator hands the hook the raw input as `data`; zod-openapi's type omits it.
    const { data } = result as { data?: unknown };
    return problem(zodFieldErrors(result.error.issues, data));
  },
});

app.openapi(check, (c) => accepted(c.req.valid('json').app) as never);
app.doc31(DOC_PATH, { openapi: '3.1.0', info: DOC_INFO });

export default app;
