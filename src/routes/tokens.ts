/**
 * The narrowed internal API over GHES's app-token endpoints. GitHub tokens travel only in JSON
 * bodies, never in URLs or query strings.
 *
 *   POST /v1/apps/{app}/token/check    → 200 authorization (no token, no hashed_token)
 *   POST /v1/apps/{app}/token/reset    → 200 new token
 *   POST /v1/apps/{app}/token/scoped   → 200 new, narrower token (GitHub Apps)
 *   POST /v1/apps/{app}/token/delete   → 204
 *   POST /v1/apps/{app}/grant/delete   → 204
 */
import * as v from 'valibot';
import type { GatewayDeps } from '../context';
import { callerAuth, callerAuthOptions } from '../auth/caller-auth';
import { checkScopedCeiling } from '../auth/policy';
import { callerRateLimit, configuredGhesCheckBudget } from '../middleware/rate-limit';
import { GatewayError } from '../lib/errors';
import { couldBeAppToken } from '../ghes/token-format';
import type { GhesAuthorization } from '../ghes/types';
import { toPublicAuthorization } from '../ghes/types';
import { scopedPermissions } from '../config/ghes-releases';
import { bodyLimit } from '../middleware/body-limit';
import { noStore } from '../middleware/no-store';
import { safeSegment } from '../middleware/validation';
import { JSON_TYPE, type Api, type ResponseSpec, type RouteSpec } from './api';
import { appFor, checkThroughCache, tokenRequest } from './common';
import {
  AppParams,
  NewTokenSchema,
  PublicAuthorizationSchema,
  TokenBody,
  accessToken,
  commonProblems,
  component,
} from './schemas';

/** GitHub caps a scoped token at 500 repositories. */
const MAX_REPOSITORIES = 500;

const positiveInteger = v.pipe(v.number(), v.integer(), v.minValue(1));

const ScopedBody = component(
  'ScopedTokenRequest',
  v.pipe(
    v.strictObject({
      access_token: accessToken,
      // A GitHub login: letters, digits and single hyphens, at most 39 characters.
      target: v.optional(
        v.pipe(
          v.string(),
          v.regex(
            /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/,
            'must be a GitHub user or organization login',
          ),
        ),
      ),
      target_id: v.optional(positiveInteger),
      repositories: v.optional(
        v.pipe(
          v.array(
            v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be a repository name')),
          ),
          v.maxLength(MAX_REPOSITORIES),
        ),
      ),
      repository_ids: v.optional(v.pipe(v.array(positiveInteger), v.maxLength(MAX_REPOSITORIES))),
      permissions: v.optional(
        v.record(v.pipe(v.string(), v.maxLength(64)), v.pipe(v.string(), v.maxLength(16))),
      ),
    }),
    // GHES states these rules only in prose (../shared/ghes-openapi/README.md); enforcing them
    // here saves a GHES round trip and gives a precise message.
    v.forward(
      v.check(
        (b) => (b.target === undefined) !== (b.target_id === undefined),
        'exactly one of target and target_id is required',
      ),
      ['target'],
    ),
    v.forward(
      v.check(
        (b) => b.repositories === undefined || b.repository_ids === undefined,
        'repositories and repository_ids are mutually exclusive',
      ),
      ['repositories'],
    ),
  ),
);

/** What every token route shares: POST, a caller JWT, the app in the path, a JSON body. */
const post = <B extends v.GenericSchema>(body: B) =>
  ({
    method: 'post',
    tags: ['tokens'],
    security: [['callerJwt']],
    request: { params: AppParams, body: { type: JSON_TYPE, schema: body } },
  }) as const;

const ok = (description: string, schema: v.GenericSchema): Record<200, ResponseSpec> => ({
  200: { description, content: { [JSON_TYPE]: schema } },
});

const checkRoute = {
  ...post(TokenBody),
  path: '/v1/apps/{app}/token/check',
  operationId: 'checkToken',
  summary: 'Check a token (cached)',
  responses: {
    ...ok('The token is valid', PublicAuthorizationSchema),
    ...commonProblems,
    404: {
      ...commonProblems[404],
      headers: { 'cache-status': { description: 'RFC 9211 cache outcome of the check' } },
    },
  },
} satisfies RouteSpec;

const resetRoute = {
  ...post(TokenBody),
  path: '/v1/apps/{app}/token/reset',
  operationId: 'resetToken',
  summary: 'Reset a token: GHES mints a new one and the old one stops working',
  responses: { ...ok('The new token', NewTokenSchema), ...commonProblems },
} satisfies RouteSpec;

const scopedRoute = {
  ...post(ScopedBody),
  path: '/v1/apps/{app}/token/scoped',
  operationId: 'createScopedToken',
  summary: 'Create a narrower token from a GitHub App user token',
  responses: { ...ok('The new scoped token', NewTokenSchema), ...commonProblems },
} satisfies RouteSpec;

const deleteRoute = {
  ...post(TokenBody),
  path: '/v1/apps/{app}/token/delete',
  operationId: 'deleteToken',
  summary: 'Revoke one token',
  responses: { 204: { description: 'Revoked' }, ...commonProblems },
} satisfies RouteSpec;

const grantRoute = {
  ...post(TokenBody),
  path: '/v1/apps/{app}/grant/delete',
  operationId: 'deleteGrant',
  summary: "Revoke the app's grant: every token of that user for the app",
  responses: { 204: { description: 'Revoked' }, ...commonProblems },
} satisfies RouteSpec;

/** A minted token goes back to the caller that asked for it, but never `hashed_token`. */
function newToken(a: GhesAuthorization) {
  return { ...toPublicAuthorization(a), token: a.token };
}

function validatePermissions(
  deps: GatewayDeps,
  permissions: Record<string, string> | undefined,
): void {
  if (permissions === undefined) return;
  const allowed = scopedPermissions(deps.config.ghes.version);
  if (allowed === undefined) return; // the client refuses the call for versions without scoped tokens
  const errors: { field: string; message: string }[] = [];
  for (const [name, level] of Object.entries(permissions)) {
    // Own properties only: `constructor` or `__proto__` must not find Object.prototype.
    const levels = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
    if (levels === undefined) {
      errors.push({
        field: `body.permissions.${safeSegment(name)}`,
        message: `is not a permission GHES ${deps.config.ghes.version.label} knows`,
      });
    } else if (!levels.includes(level)) {
      errors.push({
        field: `body.permissions.${safeSegment(name)}`,
        message: `must be one of: ${levels.join(', ')}`,
      });
    }
  }
  const first = errors[0];
  if (first !== undefined) {
    throw new GatewayError('validation-failed', {
      detail: `${first.field} ${first.message}`,
      extensions: { errors },
    });
  }
}

export function registerTokenRoutes(api: Api, deps: GatewayDeps): void {
  const { config } = deps;
  // First, so that it wraps every answer below it: reset and scoped answer new tokens.
  api.use('/v1/*', noStore());
  api.use('/v1/*', callerAuth(callerAuthOptions(deps)));
  // Every caller-facing 'is this token valid' answer that needs GHES shares one budget, charged
  // right before the GHES call (RFC 7662 §4: an open check lets attackers fish for valid
  // tokens); mutations always call GHES and have their own, smaller one, per request.
  const checkBudget = configuredGhesCheckBudget(config.rateLimits, deps.log);
  const mutationLimit = callerRateLimit({
    limiter: config.rateLimits.mutation.binding,
    bucket: 'mutation',
    periodS: config.rateLimits.mutation.periodS,
    log: deps.log,
  });
  for (const path of [
    '/v1/apps/:app/token/reset',
    '/v1/apps/:app/token/scoped',
    '/v1/apps/:app/token/delete',
    '/v1/apps/:app/grant/delete',
  ]) {
    api.use(path, mutationLimit);
  }
  api.use('/v1/*', bodyLimit({ maxBytes: config.maxBodyBytes }));

  api.route(checkRoute, async (c, { params, body }) => {
    const app = appFor(c, deps, params.app, 'check');
    // A token this app cannot have issued is unknown to GHES: answered without asking it.
    if (!couldBeAppToken(body.access_token, app.kind)) {
      throw new GatewayError('token-not-found', {
        detail: 'GHES does not know this token for this app (unknown, expired or revoked)',
      });
    }
    const outcome = await checkThroughCache(c, deps, app, body.access_token, checkBudget(c));
    if (!outcome.result.active) {
      throw new GatewayError('token-not-found', {
        detail: 'GHES does not know this token for this app (unknown, expired or revoked)',
        headers: { 'cache-status': outcome.cacheStatus },
      });
    }
    return c.json(outcome.result.authorization, 200, { 'cache-status': outcome.cacheStatus });
  });

  api.route(resetRoute, async (c, { params, body }) => {
    const app = appFor(c, deps, params.app, 'reset');
    const fresh = await deps.tokens.reset(tokenRequest(c), app, body.access_token);
    return c.json(newToken(fresh), 200);
  });

  api.route(scopedRoute, async (c, { params, body }) => {
    const app = appFor(c, deps, params.app, 'scoped');
    validatePermissions(deps, body.permissions);
    checkScopedCeiling(c.get('caller').policy, body);
    const scoped = await deps.tokens.scoped(tokenRequest(c), app, body);
    return c.json(newToken(scoped), 200);
  });

  api.route(deleteRoute, async (c, { params, body }) => {
    const app = appFor(c, deps, params.app, 'delete');
    await deps.tokens.delete(tokenRequest(c), app, body.access_token);
    return c.body(null, 204);
  });

  api.route(grantRoute, async (c, { params, body }) => {
    const app = appFor(c, deps, params.app, 'grant_delete');
    await deps.tokens.deleteGrant(tokenRequest(c), app, body.access_token);
    return c.body(null, 204);
  });
}
