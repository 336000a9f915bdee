/**
 * Strict JSON bodies for the /v1 API, checked before the route's schema sees them:
 * - `415` unless the content type is `application/json`;
 * - `400` for malformed JSON, a duplicate key, or nesting deeper than `maxDepth`.
 *
 * Why duplicates matter: `JSON.parse` keeps the last of two equal keys, while another parser on
 * the path (a WAF, a logging proxy) may keep the first, so `{"access_token": A, "access_token": B}`
 * could be checked as A and acted on as B (RFC 8259 §4: names SHOULD be unique; RFC 7493 §2.3
 * makes it a MUST for I-JSON). The body size limit (hono/body-limit) runs before this.
 */
import type { Context } from 'hono';
import { GatewayError } from '../lib/errors';
import { isMediaType } from '../lib/media-type';

/** Returns what is wrong with already-valid JSON text, or undefined. Pure. */
export function jsonStructureProblem(text: string, maxDepth: number): string | undefined {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22)
        j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k] as string)) k++;
        if (text[k] === ':') {
          // Decoded, so "a" and "\u0061" are the same name, as they are to JSON.parse.
          const name = JSON.parse(text.slice(i, j + 1)) as string;
          // Schema libraries drop or special-case it, so what was checked could differ from
          // what is sent on; no field of this API is named so.
          if (name === '__proto__') return 'the body has a "__proto__" key';
          if (top.has(name)) return 'the body has a duplicate key';
          top.add(name);
        }
      }
      i = j;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      stack.push(ch === 0x7b ? new Set() : null);
      if (stack.length > maxDepth) return `the body nests deeper than ${maxDepth} levels`;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    }
  }
  return undefined;
}

/** The deepest nesting a body may have; the API's own bodies need 3. */
export const MAX_JSON_DEPTH = 16;

/**
 * The request's JSON body, parsed once: `415` unless the content type is `application/json`,
 * `400` for malformed JSON, a duplicate key, a `__proto__` key or nesting deeper than `maxDepth`.
 * The body size limit (src/middleware/body-limit.ts) has run before.
 */
export async function readStrictJson(c: Context, maxDepth = MAX_JSON_DEPTH): Promise<unknown> {
  if (!isMediaType(c.req.header('content-type'), 'application/json')) {
    throw new GatewayError('unsupported-media-type', {
      detail: 'Send the body as application/json',
    });
  }
  const text = await c.req.text();
  let value: unknown;
  let problem: string | undefined;
  try {
    value = JSON.parse(text);
    problem = jsonStructureProblem(text, maxDepth);
  } catch {
    problem = 'the body is not well-formed JSON';
  }
  if (problem !== undefined) throw new GatewayError('invalid-request', { detail: problem });
  return value;
}
