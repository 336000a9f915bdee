/**
 * The body limit (src/middleware/body-limit.ts): an oversized body of undeclared length is read
 * to its end (up to the drain bound) before the 413, so that the upload finishes and the
 * connection stays usable (under `wrangler dev`, answering mid-upload made the next request a
 * 503 "worker restarted mid-request"); beyond the bound the stream is cancelled.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  GatewayError,
  isGatewayError,
  problemResponse,
} from '../../src/lib/errors';
import { bodyLimit } from '../../src/middleware/body-limit';
import { createTestGateway } from '../helpers/gateway';

/** A body of `total` bytes in `chunk`-byte pieces that records how much was pulled. */
function counted(total: number, chunk = 1024) {
  const seen = { pulled: 0, cancelled: false, done: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= total) {
        seen.done = true;
        return controller.close();
      }
      const n = Math.min(chunk, total - seen.pulled);
      seen.pulled += n;
      controller.enqueue(new Uint8Array(n).fill(0x7b));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

function appWith(options: Parameters<typeof bodyLimit>[0]) {
  const app = new Hono();
  app.onError((err) => problemResponse(isGatewayError(err) ? err : new GatewayError('internal')));
  app.post('/', bodyLimit(options), async (c) =>
    c.text(String((await c.req.arrayBuffer()).byteLength)),
  );
  return app;
}

const post = (app: Hono, body: ReadableStream<Uint8Array>) =>
  app.request('/', { method: 'POST', body, duplex: 'half' } as RequestInit);

describe('bodyLimit', () => {
  it('a chunked body over the limit is read to its end, then refused with 413', async () => {
    const gw = await createTestGateway();
    const { stream, seen } = counted(300_000);
    const res = await gw.request('/v1/apps/demo-oauth/token/check', {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.caller()}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'payload-too-large' });
    expect(seen).toEqual({ pulled: 300_000, cancelled: false, done: true });
  });

  it('the same on /introspect', async () => {
    const gw = await createTestGateway();
    const { stream, seen } = counted(100_000);
    const res = await gw.request('/introspect', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await gw.caller()}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(seen.done).toBe(true);
  });

  it('beyond the drain bound the rest is cancelled, not read', async () => {
    const { stream, seen } = counted(1_000_000, 100);
    const res = await post(appWith({ maxBytes: 1_000, drainBytes: 5_000 }), stream);
    expect(res.status).toBe(413);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThanOrEqual(1_000 + 5_000 + 300);
  });

  it('a chunked body within the limit reaches the route whole', async () => {
    const { stream } = counted(1_000, 7);
    const res = await post(appWith({ maxBytes: 1_000 }), stream);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1000');
  });

  it('a declared length over the limit is refused before a byte is read', async () => {
    const res = await appWith({ maxBytes: 10 }).request('/', {
      method: 'POST',
      body: 'x'.repeat(11),
    });
    expect(res.status).toBe(413);
  });

  it('checks its options when built', () => {
    expect(() => bodyLimit({ maxBytes: -1 })).toThrow(ConfigurationError);
    expect(() => bodyLimit({ maxBytes: -1 })).toThrow(/maxBytes/);
    expect(() => bodyLimit({ maxBytes: 1, drainBytes: 1.5 })).toThrow(/drainBytes/);
  });
});
