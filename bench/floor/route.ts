/**
 * The one route of stack floors 2 and 3 (bench/floor/zod-openapi/, bench/floor/zod-openapi-jose/):
 * shaped like the gateway's `POST /introspect`, a urlencoded form body validated by a zod schema,
 * and a 401 answer. In a module of its own so that both floors build exactly the same route and
 * differ only by their handlers.
 */
import { createRoute, z } from '@hono/zod-openapi';

const IntrospectionForm = z.object({
  token: z.string().min(1).openapi({ description: 'The token to introspect (RFC 7662 §2.1)' }),
  app: z.string().optional(),
});

const Unauthorized = z.object({ error: z.string() });

export const introspect = createRoute({
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
      description: 'No caller credentials, or a caller JWT that does not verify',
      content: { 'application/json': { schema: Unauthorized } },
    },
  },
});
