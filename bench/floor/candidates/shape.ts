/**
 * The one route every schema-stack candidate floor (bench/floor/schema-*) implements, so that
 * they differ only by the library that validates and documents it (issue 14, "Cold start: the
 * schema stack"):
 *
 * - `POST /check`, a JSON body validated strictly: an object that rejects unknown keys, two
 *   strings with a pattern and one optional string; 200 with a small JSON answer, or a 422
 *   problem (RFC 9457) naming each failing field by a stable code, as src/middleware/validation.ts
 *   does for the gateway (values are never echoed);
 * - `GET /openapi.json`, the OpenAPI 3.1 document generated from that same schema, with the body
 *   schema as the component `TokenCheck`.
 *
 * Only plain constants and helpers live here; each candidate declares the schema in its own
 * library (bench/floor/candidates/<library>.ts).
 */

/** An app name as the gateway's config allows it. */
export const APP_PATTERN = '^[a-z][a-z0-9-]{0,38}$';
/** A GitHub token's shape (prefix, then base62 and underscores). */
export const TOKEN_PATTERN = '^gh[opsu]_[A-Za-z0-9_]{36,251}$';

export const COMPONENT = 'TokenCheck';
export const DOC_PATH = '/openapi.json';
export const ROUTE_PATH = '/check';

/** A body every candidate accepts: the request the cold-start trials send first. */
export const VALID_BODY = { app: 'demo-oauth', token: `gho_${'aB3'.repeat(12)}` } as const;

/** The stable reason a field failed, whatever library found it. */
export type FieldCode = 'unknown_field' | 'missing' | 'type' | 'pattern' | 'invalid';

export interface FieldError {
  /** `body.<key>` (the gateway's naming); keys that do not look like field names are not repeated. */
  field: string;
  code: FieldCode;
}

/**
 * `body`, or `body.<key>` for an issue's path (standard-schema segments are keys or `{ key }`); a
 * key that does not look like a field name is not repeated (a caller-chosen key can be a token).
 */
export function fieldOf(path: ReadonlyArray<unknown> | undefined): string {
  if (path === undefined || path.length === 0) return 'body';
  return path
    .map((segment) => {
      const s =
        typeof segment === 'object' && segment !== null && 'key' in segment ? segment.key : segment;
      if (typeof s === 'number') return String(s);
      return typeof s === 'string' && /^[a-z_][a-z0-9_]{0,63}$/.test(s) ? s : '(unnamed)';
    })
    .reduce((at, s) => `${at}.${s}`, 'body');
}

/** The 422 problem of a failed validation (RFC 9457; `errors` as the gateway's extension). */
export function problem(errors: readonly FieldError[]): Response {
  return new Response(
    JSON.stringify({
      type: 'urn:ghes-token-gateway:problem:validation-failed',
      title: 'The request is invalid',
      status: 422,
      errors,
    }),
    { status: 422, headers: { 'content-type': 'application/problem+json' } },
  );
}

/** The document's parts that do not come from the schema. */
export const DOC_INFO = { title: 'schema-stack floor', version: '1.0.0' } as const;

/** The answer to a valid request. */
export function accepted(app: string): Response {
  return Response.json({ active: true, app });
}

/** OpenAPI operation parts shared by every candidate that writes them by hand. */
export const PROBLEM_RESPONSE = {
  description: 'The body does not match the schema (RFC 9457 problem naming each field)',
  content: { 'application/problem+json': { schema: { type: 'object' } } },
} as const;
export const OK_RESPONSE_SCHEMA = {
  type: 'object',
  properties: { active: { type: 'boolean' }, app: { type: 'string' } },
  required: ['active', 'app'],
} as const;

/** The OpenAPI 3.1 document around the component `TokenCheck`, for the hand-assembled candidates. */
export function documentAround(tokenCheck: object): object {
  return {
    openapi: '3.1.0',
    info: DOC_INFO,
    paths: {
      [ROUTE_PATH]: {
        post: {
          operationId: 'check',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: `#/components/schemas/${COMPONENT}` } },
            },
          },
          responses: {
            200: {
              description: 'Accepted',
              content: { 'application/json': { schema: OK_RESPONSE_SCHEMA } },
            },
            422: PROBLEM_RESPONSE,
          },
        },
      },
    },
    components: { schemas: { [COMPONENT]: tokenCheck } },
  };
}
