/**
 * Headers added by a middleware after `await next()`, when the response already exists.
 *
 * Hono's `c.header()` at that point copies the whole Response first (`new Response(body, res)`),
 * once per call, because a Response's headers may be immutable (those of a `fetch()` answer are,
 * Fetch §5.5 "immutable" guard). Every response here is built by the gateway itself, so its headers
 * can be set in place; on the hot paths the copies cost more than the rest of the middleware
 * chain. A Response whose headers are immutable still gets the copy, through `c.header()`.
 */
import type { Context } from 'hono';

export function setResponseHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}
