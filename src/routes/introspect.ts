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
import * as v from 'valibot';
import type { GatewayDeps } from '../context';
import { callerAuth, callerAuthOptions } from '../auth/caller-auth';
import { configuredGhesCheckBudget } from '../middleware/rate-limit';
import { couldBeAppToken } from '../ghes/token-format';
import { GatewayError } from '../lib/errors';
import { isMediaType } from '../lib/media-type';
import { failClosed } from '../introspection/fail-closed';
import { INTROSPECTION_JWT_TYPE, negotiateIntrospectionFormat } from '../introspection/negotiate';
import {
  INACTIVE_ANSWER,
  introspectionAnswer,
  type IntrospectionAnswer,
} from '../introspection/response';
import { signerFor } from '../introspection/signer';
import { appFor, callerApp, checkThroughCache } from './common';
import type { LeanRoute } from './lean';
import type { CheckOutcome } from '../cache/token-cache';
import type { AppConfig } from '../config/types';
import type { AuditFields } from '../middleware/audit';
import { validate } from '../middleware/validation';
import { APP_NAME_PATTERN } from '../config/types';
import { FORM_TYPE, JSON_TYPE, formFields, type Api, type RouteSpec } from './api';
import { RETRY_AFTER, WWW_AUTHENTICATE, component, problem } from './schemas';
import { bodyLimit } from '../middleware/body-limit';
import { noStore } from '../middleware/no-store';

/**
 * RFC 6749 §3.1: a parameter sent without a value is treated as omitted, unknown parameters are
 * ignored (a client may well send `client_id`), and no parameter may be sent twice (refused by
 * the form reader, src/routes/api.ts).
 */
const IntrospectionForm = component(
  'IntrospectionRequest',
  v.object({
    // Any non-empty value is a question about a token; one no GitHub token can look like is
    // simply inactive (src/ghes/token-format.ts), not a malformed request.
    token: v.pipe(
      v.string(),
      v.minLength(1, 'is required'),
      v.description('The GitHub token to introspect'),
      v.examples(['gho_EXAMPLE-not-a-real-token']),
    ),
    token_type_hint: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9_.:-]{0,64}$/, 'must be a short token type name'),
        v.description(
          'RFC 7662 §2.1 hint (access_token, refresh_token, …). Accepted and ignored: only GitHub access tokens can be checked.',
        ),
        v.examples(['access_token']),
      ),
    ),
    app: v.optional(
      v.pipe(
        v.string(),
        v.maxLength(64, 'is not an app name'),
        v.check((name) => name === '' || APP_NAME_PATTERN.test(name), 'is not an app name'),
        v.description(
          "Which configured app checks the token; the caller's default_app when absent",
        ),
        v.examples(['demo-oauth']),
      ),
    ),
  }),
);

const GitHubExtrasSchema = v.object({
  token_last_eight: v.nullable(v.string()),
  app: v.string(),
  installation: v.optional(
    v.object({
      permissions: v.record(v.string(), v.string()),
      repository_selection: v.picklist(['all', 'selected']),
      account: v.string(),
    }),
  ),
});

const IntrospectionResponseSchema = component(
  'IntrospectionResponse',
  v.pipe(
    v.union([
      v.object({
        active: v.literal(true),
        scope: v.optional(v.string()),
        client_id: v.string(),
        username: v.optional(v.string()),
        sub: v.optional(v.string()),
        token_type: v.literal('bearer'),
        exp: v.optional(v.pipe(v.number(), v.integer())),
        iat: v.optional(v.pipe(v.number(), v.integer())),
        github: GitHubExtrasSchema,
      }),
      v.strictObject({ active: v.literal(false) }),
    ]),
    v.description('RFC 7662 §2.2 introspection answer'),
  ),
);

const introspectRoute = {
  method: 'post',
  path: '/introspect',
  operationId: 'introspectToken',
  summary: 'RFC 7662 token introspection (RFC 9701 signed answer on request)',
  tags: ['introspection'],
  security: [['callerJwt']],
  request: { body: { type: FORM_TYPE, schema: IntrospectionForm } },
  responses: {
    200: {
      description:
        'The token state. `{"active": false}` for unknown, invalid, expired or revoked tokens.',
      headers: { 'cache-status': { description: 'RFC 9211 cache outcome' } },
      content: {
        [JSON_TYPE]: IntrospectionResponseSchema,
        [INTROSPECTION_JWT_TYPE]: v.pipe(
          v.string(),
          v.description(
            'RFC 9701 JWS: typ token-introspection+jwt; claims iss, aud (the caller), iat, token_introspection',
          ),
        ),
      },
    },
    400: problem('Malformed form body (missing token, a parameter given twice, …)'),
    401: problem('Missing or invalid caller credentials', WWW_AUTHENTICATE),
    403: problem('The caller may not introspect with this app'),
    404: problem('Unknown app'),
    406: problem('A signed answer was asked for but no signing key is configured'),
    413: problem('Body over the size limit'),
    415: problem('Body is not application/x-www-form-urlencoded'),
    429: problem(
      "Over the caller's or this client's budget of checks that need GHES (RFC 7662 §4)",
      RETRY_AFTER,
    ),
    503: problem('GHES could not answer; the token state is unknown (fail closed)'),
  },
} satisfies RouteSpec;

/** Every introspection answer's headers (RFC 7662 §4: never cached by anyone, errors included). */
const UNCACHEABLE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** Registers the route; returns its lean answer (./lean.ts) for the hot-path dispatch. */
export function registerIntrospectionRoutes(api: Api, deps: GatewayDeps): LeanRoute {
  const { config } = deps;
  // Built once per isolate; throws (and so fails the build, answering `misconfigured`) when a
  // configured signing key is unusable.
  const signer = signerFor(config.introspection);

  /** The answer's format, before any GHES call: throws for a client that takes only a JWT we cannot sign. */
  function formatFor(accept: string | undefined): 'json' | 'jwt' {
    const format = negotiateIntrospectionFormat(accept, signer.canSign);
    if (format === 'not-acceptable') {
      throw new GatewayError('not-acceptable', {
        detail: `No signing key is configured, so ${INTROSPECTION_JWT_TYPE} answers are unavailable; accept application/json`,
      });
    }
    return format;
  }

  /** The JSON answer's headers; `cacheStatus` when the cache was asked, `requestId` for the lean answer. */
  function jsonHeaders(cacheStatus?: string, requestId?: string): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': JSON_TYPE, ...UNCACHEABLE };
    if (cacheStatus !== undefined) headers['cache-status'] = cacheStatus;
    if (requestId !== undefined) headers['x-request-id'] = requestId;
    return headers;
  }

  /**
   * The answer to a token's check — none for a token the app cannot have issued, inactive without
   * a GHES call (src/ghes/token-format.ts) — with its Cache-Status; the audit line's outcome.
   */
  function answerOf(
    audit: AuditFields,
    app: AppConfig,
    outcome: CheckOutcome | undefined,
  ): { answered: IntrospectionAnswer; cacheStatus: string | undefined } {
    const answered =
      outcome === undefined
        ? INACTIVE_ANSWER
        : introspectionAnswer(outcome.result, app.name, deps.clock.now());
    audit.outcome = answered.answer.active ? 'active' : 'inactive';
    return { answered, cacheStatus: outcome?.cacheStatus };
  }

  // Introspection answers are never cached anywhere, errors included (RFC 7662 §4).
  api.use('/introspect', noStore());
  const introspectionCaller = callerAuth(callerAuthOptions(deps));
  api.use('/introspect', introspectionCaller);
  // Charged only when an answer needs GHES (src/middleware/rate-limit.ts).
  const checkBudget = configuredGhesCheckBudget(config.rateLimits, deps.log);
  const limit = bodyLimit({ maxBytes: config.maxBodyBytes });
  api.use('/introspect', async function introspectionBody(c, next) {
    if (c.req.method !== 'POST') return next();
    // RFC 7662 §2.1: the request is `application/x-www-form-urlencoded`; multipart is not.
    if (!isMediaType(c.req.header('content-type'), FORM_TYPE)) {
      throw new GatewayError('unsupported-media-type', {
        detail: 'Send the body as application/x-www-form-urlencoded (RFC 7662 §2.1)',
      });
    }
    return limit(c, next);
  });

  api.route(introspectRoute, async (c, { body: form }) => {
    const caller = c.get('caller');
    const audit = c.get('audit');

    // Before any GHES call: a client that can only take a signed answer we cannot give.
    const format = formatFor(c.req.header('accept'));
    const appConfig = appFor(c, deps, form.app, 'introspect');

    const outcome = couldBeAppToken(form.token, appConfig.kind)
      ? await checkThroughCache(c, deps, appConfig, form.token, checkBudget(c)).catch(failClosed)
      : undefined;
    const { answered, cacheStatus } = answerOf(audit, appConfig, outcome);
    const { answer } = answered;
    // The answer's headers, given to the Response at once (as forward auth's).
    const headers = jsonHeaders(cacheStatus);

    if (format === 'jwt') {
      const jwt = await signer.sign({
        // PUBLIC_URL, never the request's Host (src/config/schema.ts).
        issuer: config.publicUrl,
        audience: caller.sub,
        response: answer,
        nowMs: deps.clock.now(),
      });
      headers['content-type'] = INTROSPECTION_JWT_TYPE;
      return new Response(jwt, { status: 200, headers });
    }
    // Serialised once per cached result (src/introspection/response.ts).
    return new Response(answered.json, { status: 200, headers });
  });

  return {
    route: introspectRoute.path,
    method: 'POST',
    formMaxBytes: config.maxBodyBytes,
    caller: (headers) => introspectionCaller.rememberedCaller(headers),
    // A JSON answer from L1, or about a token the app cannot have issued; a signed answer, a
    // miss and every failure are the route's.
    answer({ headers, caller, requestId, audit, form: body }) {
      if (body === undefined || formatFor(headers.get('accept') ?? undefined) !== 'json')
        return undefined;
      // The route's form reader and schema: any refusal is the route's to answer.
      const { fields, repeated } = formFields(body);
      if (repeated.length > 0) return undefined;
      const form = validate(IntrospectionForm, fields, 'form', 'invalid-request');
      const app = callerApp(audit, caller, deps, form.app, 'introspect');
      let outcome: CheckOutcome | undefined;
      if (couldBeAppToken(form.token, app.kind)) {
        outcome = deps.tokens.peek(audit, app, form.token);
        if (outcome === undefined) return undefined;
        deps.tokens.answeredFromL1();
      }
      const { answered, cacheStatus } = answerOf(audit, app, outcome);
      return new Response(answered.json, {
        status: 200,
        headers: jsonHeaders(cacheStatus, requestId),
      });
    },
  };
}
