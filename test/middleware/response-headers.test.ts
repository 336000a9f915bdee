/**
 * setResponseHeader (src/middleware/response-headers.ts): a header added after `next()` lands on
 * the very Response the handler built (no copy), and a Response with immutable headers still gets
 * it, through Hono's copy.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { setResponseHeader } from '../../src/middleware/response-headers';

function appReturning(make: () => Response) {
  const app = new Hono();
  let built: Response | undefined;
  let seen: Response | undefined;
  app.use('*', async (c, next) => {
    await next();
    setResponseHeader(c, 'cache-control', 'no-store');
    seen = c.res;
  });
  app.get('/', () => (built = make()));
  return { app, built: () => built, seen: () => seen };
}

describe('setResponseHeader', () => {
  it('sets the header on the handler’s own Response, without copying it', async () => {
    const t = appReturning(() => new Response('{"active":true}', { status: 200 }));
    const res = await t.app.request('/');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(t.seen()).toBe(t.built());
    expect(await res.text()).toBe('{"active":true}');
  });

  it('falls back to a copy when the Response’s headers are immutable', async () => {
    const t = appReturning(() => Response.redirect('https://example.com/', 302));
    const res = await t.app.request('/');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://example.com/');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(t.seen()).not.toBe(t.built());
  });
});
