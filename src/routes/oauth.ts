/**
 * The OAuth web flow for services that must not hold the app's client secret:
 *
 *   POST /v1/apps/{app}/oauth/token   {"grant_type": "authorization_code", "code", "redirect_uri", "code_verifier"?}
 *                                     {"grant_type": "refresh_token", "refresh_token"}
 *                                     → 200 {access_token, token_type, scope, expires_in?, refresh_token?, refresh_token_expires_in?}
 *
 * The gateway adds the client id and secret and calls GHES's `POST /login/oauth/access_token`
 * (src/ghes/oauth-access-token.ts). Codes, verifiers and tokens travel only in JSON bodies.
 */
import * as v from 'valibot';
import type { GatewayDeps } from '../context';
import { checkRedirectUri } from '../auth/policy';
import type { OAuthToken } from '../ghes/oauth-access-token';
import { callerRateLimit } from '../middleware/rate-limit';
import { JSON_TYPE, type Api, type RouteSpec } from './api';
import { appFor, tokenRequest } from './common';
import { AppParams, commonProblems, component, problem } from './schemas';

/** What an authorization code or a refresh token can be: printable ASCII, bounded. */
const credential = (what: string, example: string) =>
  v.pipe(
    v.string(),
    v.minLength(1, 'must not be empty'),
    v.maxLength(512, `is longer than any GitHub ${what}`),
    v.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
    v.examples([example]),
  );

const CodeGrant = component(
  'AuthorizationCodeGrant',
  v.strictObject({
    grant_type: v.literal('authorization_code'),
    code: credential('authorization code', '0123456789abcdef0123'),
    redirect_uri: v.optional(
      v.pipe(
        v.string(),
        v.maxLength(2048),
        v.description("Required: one of the caller's `redirect_uris` (CALLER_POLICY)"),
        v.examples(['http://127.0.0.1:9999/callback']),
      ),
    ),
    // RFC 7636 §4.1: 43–128 unreserved characters.
    code_verifier: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9._~-]{43,128}$/, 'must be 43–128 characters of A–Z a–z 0–9 - . _ ~'),
        v.description(
          'PKCE (RFC 7636), passed on to GHES; no GHES release through 3.22 checks it (README)',
        ),
      ),
    ),
  }),
);

const RefreshGrant = component(
  'RefreshTokenGrant',
  v.strictObject({
    grant_type: v.literal('refresh_token'),
    refresh_token: credential('refresh token', 'ghr_EXAMPLE-not-a-real-token'),
  }),
);

const TokenGrant = v.variant('grant_type', [CodeGrant, RefreshGrant]);

const seconds = v.pipe(v.number(), v.integer(), v.minValue(1));
const OAuthTokenAnswer = component(
  'OAuthToken',
  v.object({
    access_token: v.pipe(v.string(), v.description('The user token (gho_…, ghu_…)')),
    token_type: v.pipe(v.string(), v.examples(['bearer'])),
    scope: v.pipe(v.string(), v.description('Comma-separated; empty for GitHub Apps')),
    expires_in: v.optional(v.pipe(seconds, v.description('Expiring GitHub-App tokens only'))),
    refresh_token: v.optional(v.pipe(v.string(), v.description('ghr_…; works once'))),
    refresh_token_expires_in: v.optional(seconds),
  }),
);

const tokenRoute = {
  method: 'post',
  path: '/v1/apps/{app}/oauth/token',
  operationId: 'oauthToken',
  tags: ['oauth'],
  security: [['callerJwt']],
  summary: 'Exchange an authorization code, or refresh a GitHub-App user token',
  request: { params: AppParams, body: { type: JSON_TYPE, schema: TokenGrant } },
  responses: {
    200: { description: 'The new token', content: { [JSON_TYPE]: OAuthTokenAnswer } },
    ...commonProblems,
    400: problem('GHES refused the code, refresh token or redirect_uri, or the body is malformed'),
  },
} satisfies RouteSpec;

/** Allow-list copy: only what GitHub documents goes back. */
function answerOf(t: OAuthToken): v.InferOutput<typeof OAuthTokenAnswer> {
  const out: v.InferOutput<typeof OAuthTokenAnswer> = {
    access_token: t.access_token,
    token_type: t.token_type,
    scope: t.scope,
  };
  if (t.expires_in !== undefined) out.expires_in = t.expires_in;
  if (t.refresh_token !== undefined) out.refresh_token = t.refresh_token;
  if (t.refresh_token_expires_in !== undefined)
    out.refresh_token_expires_in = t.refresh_token_expires_in;
  return out;
}

export function registerOAuthRoutes(api: Api, deps: GatewayDeps): void {
  const { config } = deps;
  // Mints credentials: the mutation budget, like reset and scoped (same binding and key).
  api.use(
    '/v1/apps/:app/oauth/token',
    callerRateLimit({
      limiter: config.rateLimits.mutation.binding,
      bucket: 'mutation',
      periodS: config.rateLimits.mutation.periodS,
      log: deps.log,
    }),
  );

  api.route(tokenRoute, async (c, { params, body }) => {
    const name = params.app;
    if (body.grant_type === 'authorization_code') {
      const app = appFor(c, deps, name, 'code_exchange');
      checkRedirectUri(c.get('caller'), body.redirect_uri);
      const answer = await deps.tokens.exchangeCode(tokenRequest(c), app, {
        code: body.code,
        redirect_uri: body.redirect_uri,
        code_verifier: body.code_verifier,
      });
      return c.json(answerOf(answer), 200);
    }
    const app = appFor(c, deps, name, 'refresh');
    const answer = await deps.tokens.refresh(tokenRequest(c), app, body.refresh_token);
    return c.json(answerOf(answer), 200);
  });
}
