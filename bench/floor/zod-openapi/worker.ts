/**
 * Stack floor 2 of 3: `@hono/zod-openapi` (with zod) and one validated route. The design card
 * mandates zod-openapi routes; this is the least such a worker starts before it can answer: the
 * zod runtime and one route whose urlencoded form body is validated, shaped like the gateway's
 * `POST /introspect`. bench/run.ts measures its cold start against the hello-world baseline in the
 * same trials as the gateway's (docs/performance.md, "Cold start: the stack's floor").
 *
 * It answers 401, as the gateway answers an introspection without credentials.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';

const IntrospectionForm = z.object({
  token: z.string().min(1).openapi({ description: 'The token to introspect (RFC 7662 §2.1)' }),
  app: z.string().optional(),
});

const Unauthorized = z.object({ error: z.string() });

const introspect = createRoute({
  method: 'post',
  path: '/introspect',
  request: {
    body: {
      required: true,
      content: { 'application/x-www-form-urlencoded': { schema: IntrospectionForm } },
    },
  },
  responses: {
    401: {
      description: 'No caller credentials',
      content: { 'application/json': { schema: Unauthorized } },
    },
  },
});

const app = new OpenAPIHono();

app.openapi(introspect, (c) => c.json({ error: 'unauthorized' }, 401));

export default app;
