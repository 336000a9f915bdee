/**
 * Stack floor 1 of 3: `hono` alone, one route. The design card mandates Hono on Workers; this is
 * the least a cold isolate of that stack must start before it can answer.
 * bench/steps/cold-start.ts measures its cold start against the hello-world baseline in the same
 * trials as the gateway's, so that docs/performance.md can tell the stack's share of the
 * gateway's cold start from our code's.
 *
 * It answers `POST /introspect` with 401, as the gateway answers an introspection without
 * credentials (the request the cold-start trials send).
 */
import { Hono } from 'hono';

const app = new Hono();

app.post('/introspect', (c) => c.json({ error: 'unauthorized' }, 401));

export default app;
