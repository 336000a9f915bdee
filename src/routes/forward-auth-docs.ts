/**
 * The document entries of forward auth (src/routes/forward-auth.ts registers the handler by hand:
 * it answers every method on /forward-auth and every path below it, which one OpenAPI operation
 * cannot say, so each method and both paths get an entry).
 */
import * as v from 'valibot';
import { METHODS, type RouteSpec } from './api';
import { RETRY_AFTER, WWW_AUTHENTICATE, problem } from './schemas';

export const FORWARD_AUTH_PATH = '/forward-auth';

const NO_STORE = {
  'cache-control': { description: 'no-store: a denial or failure is never reused', required: true },
  // Set by the forward-auth route; a refusal before it (`token-in-query`) has no-store only.
  'x-accel-expires': { description: '0: nginx must not cache it' },
};
const denied = (description: string, headers = {}) =>
  problem(description, { ...NO_STORE, ...headers });

/** The document entries of forward auth: every method, on the bare path and any path below. */
export function forwardAuthDocs(): RouteSpec[] {
  const request = {
    query: v.object({
      app: v.optional(
        v.pipe(
          v.string(),
          v.description(
            "App that checks the token; the caller's default_app when absent. X-Forward-Auth-App, when set, wins and a different value here is refused.",
          ),
        ),
      ),
      scope: v.optional(v.pipe(v.array(v.string()), v.description('Required scopes, repeatable'))),
    }),
    headers: v.object({
      'x-forward-auth-app': v.optional(
        v.pipe(v.string(), v.description("The app, pinned by the API gateway's own config")),
      ),
      'x-forward-auth-scope': v.optional(
        v.pipe(
          v.string(),
          v.description('Scopes that are always required, comma- or space-separated'),
        ),
      ),
    }),
  };
  const responses = {
    200: {
      description: 'Allowed; empty body',
      headers: {
        'x-auth-user': { description: 'GitHub login', required: true },
        'x-auth-user-id': { description: 'GitHub user id', required: true },
        'x-auth-scopes': { description: 'Granted scopes, comma-separated', required: true },
        'x-auth-app': { description: 'The configured app that checked the token', required: true },
        'x-auth-client-id': {
          description: "That app's client_id (the token's app)",
          required: true,
        },
        'x-auth-token-expires': { description: 'expires_at, when the token expires' },
        'cache-control': {
          description: 'private, max-age=N; N never exceeds the cache freshness',
          required: true,
        },
      },
    },
    400: denied('Malformed app or scope parameter (gateway misconfiguration)'),
    401: denied(
      'End-user token missing or not active (`realm="GitHub"`), or the gateway credential rejected (`credential: "gateway"`)',
      WWW_AUTHENTICATE,
    ),
    403: denied('A required scope is missing, or the caller may not use this app'),
    404: denied('The app is not configured (`unknown-app`, `credential: "gateway"`)'),
    429: denied(
      "Over the gateway caller's or this end-user client's budget of checks that need GHES",
      RETRY_AFTER,
    ),
    500: denied('The gateway failed or is misconfigured; nginx denies'),
    503: denied('GHES could not answer: fail closed'),
  };
  const description =
    'Any method, on /forward-auth and any path below it (Envoy appends the original path). The end-user GitHub token is in Authorization (Bearer or token scheme); the API gateway authenticates with X-Gateway-Authorization: Bearer <caller JWT>. See docs/gateways.md.';
  const rest = {
    params: v.object({
      path: v.pipe(
        v.string(),
        v.description('Any path, slashes included, or none (the bare /forward-auth)'),
      ),
    }),
  };
  return [FORWARD_AUTH_PATH, `${FORWARD_AUTH_PATH}/{path}`].flatMap((path) =>
    METHODS.map((method) => ({
      method,
      path,
      operationId: `forwardAuth${method[0]?.toUpperCase()}${method.slice(1)}${path === FORWARD_AUTH_PATH ? '' : 'Path'}`,
      tags: ['forward auth'],
      summary:
        method === 'get' && path === FORWARD_AUTH_PATH
          ? 'Forward auth (nginx auth_request, Caddy forward_auth, Envoy ext_authz, Traefik forwardAuth)'
          : `Forward auth, ${method.toUpperCase()}${path === FORWARD_AUTH_PATH ? '' : ' on a path below'}`,
      description,
      security: [['gatewayJwt', 'endUserToken']],
      request: path === FORWARD_AUTH_PATH ? request : { ...request, ...rest },
      responses,
    })),
  );
}
