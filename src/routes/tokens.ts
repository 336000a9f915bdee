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
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, GatewayDeps } from '../context';
import { callerAuth, callerAuthOptions } from '../auth/caller-auth';
import { checkScopedCeiling } from '../auth/policy';
import { callerRateLimit, configuredGhesCheckBudget } from '../middleware/rate-limit';
import { GatewayError } from '../lib/errors';
import { couldBeAppToken } from '../ghes/token-format';
import type { GhesAuthorization } from '../ghes/types';
import { toPublicAuthorization } from '../ghes/types';
import { scopedPermissions } from '../config/ghes-releases';
import { strictJsonBody } from '../middleware/json-body';
import { bodyLimit } from '../middleware/body-limit';
import { noStore } from '../middleware/no-store';
import { safeSegment } from '../middleware/validation';
import { appFor, checkThroughCache, tokenRequest } from './common';
import {
  AppParams,
  NewTokenSchema,
  PublicAuthorizationSchema,
  TokenBody,
  accessToken,
  commonProblems,
} from './schemas';

/** GitHub caps a scoped token at 500 repositories. */
const MAX_REPOSITORIES = 500;

const ScopedBody = z
  .strictObject({
    access_token: accessToken,
    // A GitHub login: letters, digits and single hyphens, at most 39 characters.
    target: z
      .string()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub user or organization login')
      .optional(),
    target_id: z.number().int().positive().optional(),
    repositories: z
      .array(z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be a repository name'))
      .max(MAX_REPOSITORIES)
      .optional(),
    repository_ids: z.array(z.number().int().positive()).max(MAX_REPOSITORIES).optional(),
    permissions: z.record(z.string().max(64), z.string().max(16)).optional(),
  })
  // GHES states these rules only in prose (../shared/ghes-openapi/README.md); enforcing them here
  // saves a GHES round trip and gives a precise message.
  .superRefine((b, ctx) => {
    if ((b.target === undefined) === (b.target_id === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: 'exactly one of target and target_id is required',
      });
    }
    if (b.repositories !== undefined && b.repository_ids !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['repositories'],
        message: 'repositories and repository_ids are mutually exclusive',
      });
    }
  })
  .openapi('ScopedTokenRequest');

const json = <T extends z.ZodType>(schema: T) => ({
  content: { 'application/json': { schema } },
  required: true,
});

/** What every /v1 route shares: POST, a caller JWT, the app in the path, a JSON body. */
const post = <T extends z.ZodType>(body: T) => ({
  method: 'post' as const,
  tags: ['tokens'],
  security: [{ callerJwt: [] }],
  request: { params: AppParams, body: json(body) },
});

const ok = <T extends z.ZodType>(description: string, schema: T) => ({
  200: { description, content: { 'application/json': { schema } } },
});

const checkRoute = createRoute({
  ...post(TokenBody),
  path: '/v1/apps/{app}/token/check',
  summary: 'Check a token (cached)',
  responses: { ...ok('The token is valid', PublicAuthorizationSchema), ...commonProblems },
});

const resetRoute = createRoute({
  ...post(TokenBody),
  path: '/v1/apps/{app}/token/reset',
  summary: 'Reset a token: GHES mints a new one and the old one stops working',
  responses: { ...ok('The new token', NewTokenSchema), ...commonProblems },
});

const scopedRoute = createRoute({
  ...post(ScopedBody),
  path: '/v1/apps/{app}/token/scoped',
  summary: 'Create a narrower token from a GitHub App user token',
  responses: { ...ok('The new scoped token', NewTokenSchema), ...commonProblems },
});

const deleteRoute = createRoute({
  ...post(TokenBody),
  path: '/v1/apps/{app}/token/delete',
  summary: 'Revoke one token',
  responses: { ...{ 204: { description: 'Revoked' } }, ...commonProblems },
});

const grantRoute = createRoute({
  ...post(TokenBody),
  path: '/v1/apps/{app}/grant/delete',
  summary: "Revoke the app's grant: every token of that user for the app",
  responses: { ...{ 204: { description: 'Revoked' } }, ...commonProblems },
});

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

export function registerTokenRoutes(app: OpenAPIHono<AppEnv>, deps: GatewayDeps): void {
  const { config } = deps;
  // First, so that it wraps every answer below it: reset and scoped answer new tokens.
  app.use('/v1/*', noStore());
  app.use('/v1/*', callerAuth(callerAuthOptions(deps)));
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
    app.use(path, mutationLimit);
  }
  app.use('/v1/*', bodyLimit({ maxBytes: config.maxBodyBytes }));
  app.use('/v1/*', strictJsonBody());

  app.openapi(checkRoute, async (c) => {
    const app = appFor(c, deps, c.req.valid('param').app, 'check');
    const { access_token } = c.req.valid('json');
    // A token this app cannot have issued is unknown to GHES: answered without asking it.
    if (!couldBeAppToken(access_token, app.kind)) {
      throw new GatewayError('token-not-found', {
        detail: 'GHES does not know this token for this app (unknown, expired or revoked)',
      });
    }
    const outcome = await checkThroughCache(c, deps, app, access_token, checkBudget(c));
    if (!outcome.result.active) {
      throw new GatewayError('token-not-found', {
        detail: 'GHES does not know this token for this app (unknown, expired or revoked)',
        headers: { 'cache-status': outcome.cacheStatus },
      });
    }
    return c.json(outcome.result.authorization, 200);
  });

  app.openapi(resetRoute, async (c) => {
    const app = appFor(c, deps, c.req.valid('param').app, 'reset');
    const { access_token } = c.req.valid('json');
    const fresh = await deps.tokens.reset(tokenRequest(c), app, access_token);
    return c.json(newToken(fresh), 200);
  });

  app.openapi(scopedRoute, async (c) => {
    const app = appFor(c, deps, c.req.valid('param').app, 'scoped');
    const body = c.req.valid('json');
    validatePermissions(deps, body.permissions);
    checkScopedCeiling(c.get('caller').policy, body);
    const scoped = await deps.tokens.scoped(tokenRequest(c), app, body);
    return c.json(newToken(scoped), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const app = appFor(c, deps, c.req.valid('param').app, 'delete');
    const { access_token } = c.req.valid('json');
    await deps.tokens.delete(tokenRequest(c), app, access_token);
    return c.body(null, 204);
  });

  app.openapi(grantRoute, async (c) => {
    const app = appFor(c, deps, c.req.valid('param').app, 'grant_delete');
    const { access_token } = c.req.valid('json');
    await deps.tokens.deleteGrant(tokenRequest(c), app, access_token);
    return c.body(null, 204);
  });
}
