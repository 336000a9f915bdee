/**
 * Stack floor 2 of 3: `@hono/zod-openapi` (with zod) and one validated route. The design card
 * mandates zod-openapi routes; this is the least such a worker starts before it can answer: the
 * zod runtime and one route whose urlencoded form body is validated, shaped like the gateway's
 * `POST /introspect`. bench/steps/cold-start.ts measures its cold start against the hello-world
 * baseline in the same trials as the gateway's (docs/performance.md, "Cold start: the stack's
 * floor").
 *
 * It answers 401, as the gateway answers an introspection without credentials.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { introspect } from '../route';

const app = new OpenAPIHono();

app.openapi(introspect, (c) => c.json({ error: 'unauthorized' }, 401));

export default app;
