/**
 * Stack floor 3 of 3: floor 2 (`@hono/zod-openapi`, the same validated route, bench/floor/route.ts) plus `jose`, which the
 * design card mandates for caller JWTs. The handler verifies a caller JWT with `jwtVerify` and
 * `createLocalJWKSet` whenever an Authorization header is present, so the bundle carries the
 * verification code the gateway carries (referenced, hence not tree-shaken).
 * bench/steps/cold-start.ts measures its cold start against the hello-world baseline in the same
 * trials as the gateway's: the gateway's cold start beyond this one is ours (docs/performance.md,
 * "Cold start: the stack's floor").
 *
 * The key set is empty, so any JWT is rejected: the worker has no caller to admit. The trials send
 * no Authorization header and get 401, as the gateway answers an introspection without
 * credentials.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { introspect } from '../route';

const app = new OpenAPIHono();

app.openapi(introspect, async (c) => {
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const jwt = authorization.replace(/^Bearer\s+/i, '');
    // Trust boundary: the caller's JWT. With no keys nothing verifies; a failure is a 401 too.
    await jwtVerify(jwt, createLocalJWKSet({ keys: [] })).catch(() => undefined);
  }
  return c.json({ error: 'unauthorized' }, 401);
});

export default app;
