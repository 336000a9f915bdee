/**
 * Reads a byte stream whole, but never more than `maxBytes` of it: the one bound on everything
 * the gateway reads from outside (GHES answers, the caller JWKS, request bodies), so a runaway
 * source cannot fill an isolate's 128 MB.
 */
export type BoundedRead = { over: false; bytes: Uint8Array } | { over: true };

/**
 * Reads `reader` to its end, or stops at the first chunk that takes it past `maxBytes` and
 * answers `{ over: true }` with the reader left open (cancel or drain it). `read` wraps each
 * read (e.g. to give up when a signal aborts); read errors are thrown as they come.
 */
export async function readAtMost(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
  read: () => Promise<ReadableStreamReadResult<Uint8Array>> = () => reader.read(),
): Promise<BoundedRead> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await read();
    if (done) break;
    // Trust boundary: an injected or proxied stream may yield anything.
    if (!(value instanceof Uint8Array)) throw new TypeError('the body is not a byte stream');
    size += value.byteLength;
    if (size > maxBytes) return { over: true };
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { over: false, bytes };
}

/** UTF-8 without replacement characters: a body that is not UTF-8 throws (RFC 8259 §8.1). */
export function strictUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
}
