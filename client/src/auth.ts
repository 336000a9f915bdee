/**
 * Caller-JWT injection, as openapi-fetch middleware. The gateway reads the caller's JWT from
 * `Authorization: Bearer` on /v1 and /introspect, and from `X-Gateway-Authorization: Bearer` on
 * forward auth, where `Authorization` holds the end user's GitHub token (docs/gateways.md).
 * Public routes (/healthz, /.well-known, /openapi.json) get no credential.
 */
import type { Middleware } from 'openapi-fetch';

/**
 * Returns the service's caller JWT, called once per request that needs it. It may cache the token
 * and mint a fresh one before it expires; the client keeps nothing.
 */
export type CallerJwt = () => string | Promise<string>;

/** The header that carries the caller JWT on `path` (a path template or a URL path). */
export function callerJwtHeader(
  path: string,
): 'authorization' | 'x-gateway-authorization' | undefined {
  if (path === '/forward-auth' || path.startsWith('/forward-auth/'))
    return 'x-gateway-authorization';
  if (path.startsWith('/v1/') || path === '/introspect') return 'authorization';
  return undefined;
}

/**
 * GitHub token prefixes (gho_, ghu_, ghp_, ghs_, ghr_, github_pat_): such a string in a URL would
 * reach access logs and Referer headers, so the client refuses to send it (RFC 6750 §5.3).
 */
const GITHUB_TOKEN_SHAPE = /(?:^|[^A-Za-z0-9])(?:gh[opusr]_|github_pat_)[A-Za-z0-9_]{8,}/;

/** A TypeError before anything is sent: tokens travel in bodies and headers, never in a URL. */
export function refuseTokenInUrl(url: string, callerJwt?: string): void {
  const decoded = safeDecode(url);
  if (GITHUB_TOKEN_SHAPE.test(decoded) || (callerJwt !== undefined && decoded.includes(callerJwt)))
    throw new TypeError('a token must not be sent in a URL; the gateway takes tokens in the body');
}

function safeDecode(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

/** The caller JWT, checked: a bad value is the service's bug, reported before any request. */
export async function bearer(callerJwt: CallerJwt): Promise<string> {
  const jwt = await callerJwt();
  // A compact JWS (RFC 7515 §7.1): three base64url parts. Anything else (empty, a header-breaking
  // newline) would only earn a 401 after a round trip.
  if (typeof jwt !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(jwt))
    throw new TypeError('callerJwt() did not return a compact JWT');
  return jwt;
}

export function callerJwtMiddleware(callerJwt: CallerJwt): Middleware {
  return {
    async onRequest({ request, schemaPath }) {
      const header = callerJwtHeader(schemaPath);
      const jwt = header === undefined ? undefined : await bearer(callerJwt);
      refuseTokenInUrl(request.url, jwt);
      if (header === undefined || jwt === undefined) return undefined;
      request.headers.set(header, `Bearer ${jwt}`);
      return request;
    },
  };
}
