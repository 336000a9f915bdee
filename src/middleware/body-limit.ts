/**
 * Request bodies of at most `maxBytes`, else 413 `payload-too-large`; a declared Content-Length
 * over the limit is refused before any byte is read. An undeclared length (chunked) is refused
 * only after the rest is read and dropped, up to `drainBytes`: workerd breaks a connection
 * answered with its upload half read, and `wrangler dev` then fails the next request with 503
 * "worker restarted mid-request". Replaces hono/body-limit, which leaves the stream locked.
 */
import type { MiddlewareHandler } from 'hono';
import { ConfigurationError, GatewayError } from '../lib/errors';
import { readAtMost } from '../lib/bounded-read';

export interface BodyLimitOptions {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** How much of an oversized undeclared body is read and dropped before answering. */
  drainBytes?: number;
}

/**
 * 512 KiB: thirty times the default MAX_BODY_BYTES, so an ordinary oversized body is drained,
 * while a hostile endless one still costs under 1 MiB of reads before it is cut off
 * (test/hostile/token-routes.test.ts).
 */
export const DEFAULT_DRAIN_BYTES = 512 * 1024;

export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  const { maxBytes } = options;
  const drainBytes = options.drainBytes ?? DEFAULT_DRAIN_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
    throw new ConfigurationError('bodyLimit', '"maxBytes" must be a non-negative integer');
  if (!Number.isSafeInteger(drainBytes) || drainBytes < 0)
    throw new ConfigurationError('bodyLimit', '"drainBytes" must be a non-negative integer');
  const tooLarge = () =>
    new GatewayError('payload-too-large', {
      detail: `The body must be at most ${maxBytes} bytes`,
    });

  return async function bodyLimitMiddleware(c, next) {
    const raw = c.req.raw;
    if (raw.body === null) return next();
    const declared = raw.headers.get('content-length');
    if (declared !== null && !raw.headers.has('transfer-encoding')) {
      // workerd holds the body to its declared length, so the header is the size.
      if (Number(declared) > maxBytes) throw tooLarge();
      return next();
    }
    const reader = raw.body.getReader();
    const read = await readAtMost(reader, maxBytes);
    if (read.over) {
      await drain(reader, drainBytes);
      throw tooLarge();
    }
    c.req.raw = new Request(raw, { body: read.bytes });
    return next();
  };
}

/** Reads and drops the rest of a body, at most `limit` bytes; cancels what is left beyond. */
async function drain(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
): Promise<void> {
  let dropped = 0;
  try {
    while (dropped <= limit) {
      const { done, value } = await reader.read();
      if (done) return;
      dropped += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away mid-upload: nothing left to drain.
  }
}
