/**
 * Schema-stack candidate (a2): valibot with rhinobase's `hono-openapi` (describeRoute, its
 * Standard Schema validator, openAPIRouteHandler), the document generated on its first request;
 * `v.metadata({ ref })` makes the body a component (bench/floor/candidates/shape.ts has the route).
 */
import { Hono } from 'hono';
import { describeRoute, openAPIRouteHandler, resolver, validator } from 'hono-openapi';
import * as v from 'valibot';
import {
  accepted,
  COMPONENT,
  DOC_INFO,
  DOC_PATH,
  PROBLEM_RESPONSE,
  problem,
  ROUTE_PATH,
} from '../candidates/shape';
import { TokenCheck, valibotFieldErrors } from '../candidates/valibot';

const Body = v.pipe(TokenCheck, v.metadata({ ref: COMPONENT }));
const Ok = v.object({ active: v.boolean(), app: v.string() });

const app = new Hono();

app.post(
  ROUTE_PATH,
  describeRoute({
    operationId: 'check',
    responses: {
      200: { description: 'Accepted', content: { 'application/json': { schema: resolver(Ok) } } },
      422: PROBLEM_RESPONSE,
    },
  }),
  validator('json', Body, (result) => {
    if (!result.success)
      return problem(valibotFieldErrors(result.error as readonly v.InferIssue<typeof Body>[]));
    return undefined;
  }),
  (c) => accepted(c.req.valid('json').app),
);
app.get(
  DOC_PATH,
  openAPIRouteHandler(app, {
    documentation: { openapi: '3.1.0', info: DOC_INFO },
    // Its default is a 400 with its own error shape; ours is the 422 problem declared above.
    defaultValidationErrorResponse: false,
  }),
);

export default app;
