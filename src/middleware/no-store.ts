/**
 * `Cache-Control: no-store` and `Pragma: no-cache` on every answer of the routes it wraps,
 * errors included (RFC 6749 §5.1: an answer carrying a token must not be stored; RFC 7662 §4 says
 * the same of token state). Mounted on /v1/* (reset and scoped answer new tokens; check answers
 * token metadata) and /introspect. Problem answers get both headers from `problemResponse`
 * (src/errors.ts) anyway; this covers the successful ones.
 */
import type { MiddlewareHandler } from 'hono';
import { setResponseHeader } from './response-headers';

export function noStore(): MiddlewareHandler {
  return async function noStoreMiddleware(c, next) {
    await next();
    setResponseHeader(c, 'cache-control', 'no-store');
    // HTTP/1.0 caches know only Pragma (RFC 9111 §5.4).
    setResponseHeader(c, 'pragma', 'no-cache');
  };
}
