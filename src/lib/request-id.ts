/**
 * Whether an incoming `X-Request-Id` may be reused as this request's id. Trust boundary: the value
 * comes from the client (or its proxy), and a reused id is echoed on the answer, put in problem
 * bodies and written to every log line of the request. So it is reused only when it is plainly an
 * id, and never when any part of it looks like a credential: a confused client may send a token
 * there, or a whole id may be built around one (`v1.<40 hex>`, `x<40 hex>`, `<40 hex>.1`).
 * A refused id is replaced by a fresh UUID; a false positive costs nothing but the correlation.
 */

import { looksSecret } from './secret-shaped';

/** Characters ids are made of, and a length that fits a trace id with room to spare. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function isReusableRequestId(value: string | undefined): value is string {
  return value !== undefined && REQUEST_ID.test(value) && !looksSecret(value);
}
