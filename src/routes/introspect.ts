/**
 * POST /introspect: OAuth 2.0 token introspection (RFC 7662) for GitHub tokens, answered from
 * the token-check cache, as JSON or as an RFC 9701 signed JWT.
 *
 *   caller JWT (Authorization: Bearer) → form body → Accept → app policy → cache → GHES
 *
 * - Unknown, invalid, expired or revoked → exactly `{"active": false}` (RFC 7662 §2.2); only a
 *   definitive GHES 404 (or a token no GHES could ever have issued) makes a token inactive.
 * - GHES failing in any way → 503 `upstream-unavailable`: fail closed (src/introspection/fail-closed.ts).
 * - Every answer, errors included, carries `Cache-Control: no-store` and `Pragma: no-cache`
 *   (RFC 7662 §4 and RFC 6749 §5.1: token state must not be cached by intermediaries).
 *
 * Trust boundary: the token arrives in the form body only and is used for the cache key and the
 * GHES call; it is never logged, echoed or stored.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Hook } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv, GatewayDeps } from '../context';
import { callerAuth, callerAuthOptions } from '../auth/caller-auth';
import { configuredGhesCheckBudget } from '../middleware/rate-limit';
import { couldBeAppToken } from '../ghes/token-format';
import { GatewayError } from '../lib/errors';
import { failClosed } from '../introspection/fail-closed';
import { INTROSPECTION_JWT_TYPE, negotiateIntrospectionFormat } from '../introspection/negotiate';
import {
  INACTIVE,
  toIntrospectionResponse,
  type IntrospectionResponse,
} from '../introspection/response';
import { signerFor } from '../introspection/signer';
import { validationHook, type FieldError } from '../middleware/validation';
import { appFor, checkThroughCache } from './common';
import { APP_NAME_PATTERN } from '../config/types';
import { problem } from './schemas';
import { bodyLimit } from '../middleware/body-limit';
import { noStore } from '../middleware/no-store';

/**
 * RFC 6749 §3.1: a parameter sent without a value is treated as omitted, unknown parameters are
 * ignored (z.object strips them; a client may well send `client_id`), and no parameter may be
 * sent twice (checked in `formHook`).
 */
const IntrospectionForm = z
  .object({
    // Any non-empty value is a question about a token; one no GitHub token can look like is
    // simply inactive (src/ghes/token-format.ts), not a malformed request.
    token: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
      .min(1, 'is required')
      .openapi({
        description: 'The GitHub token to introspect',
        example: 'gho_EXAMPLE-not-a-real-token',
      }),
    token_type_hint: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{0,64}$/, 'must be a short token type name')
      .optional()
      .openapi({
        description:
          'RFC 7662 §2.1 hint (access_token, refresh_token, …). Accepted and ignored: only GitHub access tokens can be checked.',
        example: 'access_token',
      }),
    app: z
      .string()
      .max(64, 'is not an app name')
      .refine((v) => v === '' || APP_NAME_PATTERN.test(v), 'is not an app name')
      .optional()
      .openapi({
        description: "Which configured app checks the token; the caller's default_app when absent",
        example: 'demo-oauth',
      }),
  })
  .openapi('IntrospectionRequest');

const GitHubExtrasSchema = z.object({
  token_last_eight: z.string().nullable(),
  app: z.string(),
  installation: z
    .object({
      permissions: z.record(z.string(), z.string()),
      repository_selection: z.enum(['all', 'selected']),
      account: z.string(),
    })
    .optional(),
});

const IntrospectionResponseSchema = z
  .union([
    z.object({
      active: z.literal(true),
      scope: z.string().optional(),
      client_id: z.string(),
      username: z.string().optional(),
      sub: z.string().optional(),
      token_type: z.literal('bearer'),
      exp: z.number().int().optional(),
      iat: z.number().int().optional(),
      github: GitHubExtrasSchema,
    }),
    z.strictObject({ active: z.literal(false) }),
  ])
  .openapi('IntrospectionResponse', { description: 'RFC 7662 §2.2 introspection answer' });

const introspectRoute = createRoute({
  method: 'post',
  path: '/introspect',
  summary: 'RFC 7662 token introspection (RFC 9701 signed answer on request)',
  tags: ['introspection'],
  security: [{ callerJwt: [] }],
  request: {
    body: {
      required: true,
      content: { 'application/x-www-form-urlencoded': { schema: IntrospectionForm } },
    },
  },
  responses: {
    200: {
      description:
        'The token state. `{"active": false}` for unknown, invalid, expired or revoked tokens.',
      headers: z.object({
        'cache-status': z.string().optional().openapi({ description: 'RFC 9211 cache outcome' }),
      }),
      content: {
        'application/json': { schema: IntrospectionResponseSchema },
        [INTROSPECTION_JWT_TYPE]: {
          schema: z.string().openapi({
            description:
              'RFC 9701 JWS: typ token-introspection+jwt; claims iss, aud (the caller), iat, token_introspection',
          }),
        },
      },
    },
    400: problem('Malformed form body (missing token, a parameter given twice, …)'),
    401: problem('Missing or invalid caller credentials'),
    403: problem('The caller may not introspect with this app'),
    404: problem('Unknown app'),
    406: problem('A signed answer was asked for but no signing key is configured'),
    413: problem('Body over the size limit'),
    415: problem('Body is not application/x-www-form-urlencoded'),
    429: problem(
      "Over the caller's or this client's budget of checks that need GHES (RFC 7662 §4); see Retry-After",
    ),
    503: problem('GHES could not answer; the token state is unknown (fail closed)'),
  },
});

/** RFC 7662 §2.1: the request is `application/x-www-form-urlencoded`; multipart is not. */
function isFormBody(contentType: string | undefined): boolean {
  return /^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType ?? '');
}

/**
 * The urlencoded body parsed once by `URLSearchParams` (WHATWG URL §5.1, what `formData()` applies
 * to this media type) and handed to the route's form validator through Hono's body cache: Hono's
 * own path builds a Response and a multipart-capable parser per request, about a tenth of the
 * hot path. The validator only calls `forEach`, which URLSearchParams has with the same signature.
 */
async function parseFormOnce(c: Context<AppEnv>): Promise<void> {
  if (c.req.bodyCache.formData !== undefined) return;
  c.req.bodyCache.formData = new URLSearchParams(await c.req.text()) as unknown as FormData;
}

/**
 * Form errors are 400 `invalid-request` (RFC 6749 §5.2 `invalid_request`), which OAuth clients
 * expect, rather than the internal API's 422. A repeated parameter (RFC 6749 §3.1) is named as
 * such. Values are never echoed.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Hook's generic slots are free.
const formHook: Hook<any, any, any, any> = (result, c) => {
  if (result.success) return;
  if (result.target !== 'form') return validationHook(result, c);
  const data = (result as { data?: unknown }).data;
  const repeated =
    typeof data === 'object' && data !== null
      ? Object.entries(data)
          .filter(([, v]) => Array.isArray(v))
          .map(([k]) => k)
      : [];
  const errors: FieldError[] =
    repeated.length > 0
      ? repeated.map((k) => ({ field: `form.${k}`, message: 'must not be sent more than once' }))
      : result.error.issues.map((issue) => ({
          field: `form.${issue.path.map(String).join('.')}`,
          message: issue.message,
        }));
  const first = errors[0];
  throw new GatewayError('invalid-request', {
    detail: first === undefined ? 'The form body is invalid' : `${first.field} ${first.message}`,
    extensions: { errors },
  });
};

export function registerIntrospectionRoutes(app: OpenAPIHono<AppEnv>, deps: GatewayDeps): void {
  const { config } = deps;
  // Built once per isolate; throws (and so fails the build, answering `misconfigured`) when a
  // configured signing key is unusable.
  const signer = signerFor(config.introspection);

  // Introspection answers are never cached anywhere, errors included (RFC 7662 §4).
  app.use('/introspect', noStore());
  app.use('/introspect', callerAuth(callerAuthOptions(deps)));
  // Charged only when an answer needs GHES (src/middleware/rate-limit.ts).
  const checkBudget = configuredGhesCheckBudget(config.rateLimits, deps.log);
  const limit = bodyLimit({ maxBytes: config.maxBodyBytes });
  app.use('/introspect', async function introspectionBody(c, next) {
    if (c.req.method !== 'POST') return next();
    if (!isFormBody(c.req.header('content-type'))) {
      throw new GatewayError('unsupported-media-type', {
        detail: 'Send the body as application/x-www-form-urlencoded (RFC 7662 §2.1)',
      });
    }
    return limit(c, async () => {
      await parseFormOnce(c);
      await next();
    });
  });

  app.openapi(
    introspectRoute,
    async (c) => {
      const form = c.req.valid('form');
      const caller = c.get('caller');
      const audit = c.get('audit');

      // Before any GHES call: a client that can only take a signed answer we cannot give.
      const format = negotiateIntrospectionFormat(c.req.header('accept'), signer.canSign);
      if (format === 'not-acceptable') {
        throw new GatewayError('not-acceptable', {
          detail: `No signing key is configured, so ${INTROSPECTION_JWT_TYPE} answers are unavailable; accept application/json`,
        });
      }
      const appConfig = appFor(c, deps, form.app, 'introspect');

      let answer: IntrospectionResponse = INACTIVE;
      // A token the app cannot have issued is inactive without a GHES call (src/ghes/token-format.ts).
      if (couldBeAppToken(form.token, appConfig.kind)) {
        const outcome = await checkThroughCache(
          c,
          deps,
          appConfig,
          form.token,
          checkBudget(c),
        ).catch(failClosed);
        answer = toIntrospectionResponse(outcome.result, appConfig.name, deps.clock.now());
      }
      audit.outcome = answer.active ? 'active' : 'inactive';

      if (format === 'jwt') {
        const jwt = await signer.sign({
          // PUBLIC_URL, never the request's Host (src/config/schema.ts).
          issuer: config.publicUrl,
          audience: caller.sub,
          response: answer,
          nowMs: deps.clock.now(),
        });
        return c.body(jwt, 200, { 'content-type': INTROSPECTION_JWT_TYPE });
      }
      return c.json(answer, 200);
    },
    (result, c) => formHook(result, c),
  );
}
