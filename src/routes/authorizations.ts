/**
 * The OAuth Authorizations API, narrowed to one app, acting as a GHES user (docs/authorizations.md):
 *
 *   PUT    /v1/apps/{app}/authorizations        → 201 new token, or 200 existing (no token)
 *   POST   /v1/apps/{app}/authorizations        → 201 new token
 *   GET    /v1/apps/{app}/authorizations        → 200 page of authorizations (no tokens)
 *   GET    /v1/apps/{app}/authorizations/{id}   → 200
 *   PATCH  /v1/apps/{app}/authorizations/{id}   → 200
 *   DELETE /v1/apps/{app}/authorizations/{id}   → 204
 *   GET    /v1/apps/{app}/grants                → 200 page of grants
 *   DELETE /v1/apps/{app}/grants/{id}           → 204
 *
 * Off unless the app has `authorizations_api: true`. The user's credentials come in
 * `X-GHES-User-Authorization` and `X-GitHub-OTP` (Authorization is the caller's JWT); every call
 * that presents them is charged to the user-login limit before GHES sees it.
 */
import type * as v from 'valibot';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, GatewayDeps } from '../context';
import { checkAuthorizationScopes } from '../auth/policy';
import {
  OTP_HEADER,
  USER_AUTHORIZATION_HEADER,
  parseUserCredentials,
} from '../auth/user-credentials';
import type { AppConfig, Operation } from '../config/types';
import type { Page } from '../ghes/authorizations/page';
import type { UserCredentials } from '../ghes/authorizations/user-call';
import { toPublicAuthorization } from '../ghes/types';
import { GatewayError } from '../lib/errors';
import { callerRateLimit } from '../middleware/rate-limit';
import { userLoginLimit } from '../middleware/user-login-limit';
import type { AuthorizationsRequest } from '../tokens/authorizations';
import { JSON_TYPE, type Api, type ResponseSpec, type RouteSpec } from './api';
import { appFor } from './common';
import {
  AuthorizationListSchema,
  CreateBody,
  EXISTING_TOKEN_NEXT,
  GetOrCreateBody,
  GetOrCreateCreated,
  GetOrCreateExisting,
  GrantListSchema,
  IdParams,
  NewTokenSchema,
  PageQuery,
  PublicAuthorizationSchema,
  UpdateBody,
  UserHeaders,
} from './authorization-schemas';
import { AppParams, commonProblems, problem } from './schemas';

const problems = {
  ...commonProblems,
  400: problem(
    'X-GHES-User-Authorization or X-GitHub-OTP missing or malformed, or the body is not well-formed',
  ),
  401: problem(
    'Missing or invalid caller credentials (`unauthorized`), GHES rejected the user (`user-credentials-rejected`), or needs a two-factor code (`user-otp-required`, with `otp_type` and `X-GitHub-OTP`)',
  ),
  404: problem(
    'Unknown app, the Authorizations API is off for it (`authorizations-disabled`), or no such authorization or grant for this app (`authorization-not-found`)',
  ),
} as const;

const jsonOf = (description: string, schema: v.GenericSchema): ResponseSpec => ({
  description,
  content: { [JSON_TYPE]: schema },
});
const NEXT_LINK = {
  link: {
    description:
      'RFC 8288 `<…?page=N>; rel="next"` on the gateway\'s URL, when there is a next page',
  },
};
const body = <B extends v.GenericSchema>(schema: B) => ({ type: JSON_TYPE, schema }) as const;
const base = {
  tags: ['authorizations'],
  security: [['callerJwt', 'ghesUser']],
} as const;
const LIST = '/v1/apps/{app}/authorizations';
const ONE = '/v1/apps/{app}/authorizations/{id}';

const getOrCreateRoute = {
  ...base,
  method: 'put',
  path: LIST,
  operationId: 'getOrCreateAuthorization',
  summary: "Get or create the user's authorization for this app (optionally per fingerprint)",
  request: { params: AppParams, headers: UserHeaders, body: body(GetOrCreateBody) },
  responses: {
    201: jsonOf('Created: the new token (shown only now)', GetOrCreateCreated),
    200: jsonOf('It existed: GHES does not show its token again', GetOrCreateExisting),
    ...problems,
  },
} satisfies RouteSpec;
const createAuthRoute = {
  ...base,
  method: 'post',
  path: LIST,
  operationId: 'createAuthorization',
  summary: 'Create an authorization (a new token) for this app',
  request: { params: AppParams, headers: UserHeaders, body: body(CreateBody) },
  responses: { 201: jsonOf('The new token (shown only now)', NewTokenSchema), ...problems },
} satisfies RouteSpec;
const listRoute = {
  ...base,
  method: 'get',
  path: LIST,
  operationId: 'listAuthorizations',
  summary: 'List the user\'s authorizations for this app (paginated, `Link` rel="next")',
  request: { params: AppParams, headers: UserHeaders, query: PageQuery },
  responses: {
    200: { ...jsonOf('One page', AuthorizationListSchema), headers: NEXT_LINK },
    ...problems,
  },
} satisfies RouteSpec;
const getRoute = {
  ...base,
  method: 'get',
  path: ONE,
  operationId: 'getAuthorization',
  summary: 'Get one authorization of this app',
  request: { params: IdParams, headers: UserHeaders },
  responses: {
    200: jsonOf('The authorization (no token)', PublicAuthorizationSchema),
    ...problems,
  },
} satisfies RouteSpec;
const updateRoute = {
  ...base,
  method: 'patch',
  path: ONE,
  operationId: 'updateAuthorization',
  summary:
    'Update an authorization: one of scopes | add_scopes | remove_scopes, note, note_url, fingerprint',
  request: { params: IdParams, headers: UserHeaders, body: body(UpdateBody) },
  responses: {
    200: jsonOf('The authorization (no token)', PublicAuthorizationSchema),
    ...problems,
  },
} satisfies RouteSpec;
const deleteRoute = {
  ...base,
  method: 'delete',
  path: ONE,
  operationId: 'deleteAuthorization',
  summary: 'Delete an authorization: its token stops working',
  request: { params: IdParams, headers: UserHeaders },
  responses: { 204: { description: 'Deleted' }, ...problems },
} satisfies RouteSpec;
const listGrantsRoute = {
  ...base,
  method: 'get',
  path: '/v1/apps/{app}/grants',
  operationId: 'listGrants',
  summary: "List the user's grants for this app",
  request: { params: AppParams, headers: UserHeaders, query: PageQuery },
  responses: { 200: { ...jsonOf('One page', GrantListSchema), headers: NEXT_LINK }, ...problems },
} satisfies RouteSpec;
const deleteGrantRoute = {
  ...base,
  method: 'delete',
  path: '/v1/apps/{app}/grants/{id}',
  operationId: 'deleteAuthorizationGrant',
  summary: 'Delete a grant: every token of the user for this app stops working',
  request: { params: IdParams, headers: UserHeaders },
  responses: { 204: { description: 'Deleted' }, ...problems },
} satisfies RouteSpec;

export function registerAuthorizationRoutes(api: Api, deps: GatewayDeps): void {
  const { config } = deps;
  const chargeLogin = userLoginLimit({
    limit: config.rateLimits.userLogin,
    pepper: config.cache.pepper,
    log: deps.log,
  });
  // Writes share the mutation budget of the token routes (GET shares the path, so by method).
  const mutationLimit = callerRateLimit({
    limiter: config.rateLimits.mutation.binding,
    bucket: 'mutation',
    periodS: config.rateLimits.mutation.periodS,
    log: deps.log,
  });
  // By hand rather than hono/combine's `except`, which brings a second router into the bundle.
  const writesOnly: MiddlewareHandler = async function writesOnly(c, next) {
    return c.req.method === 'GET' ? next() : mutationLimit(c, next);
  };
  api.use('/v1/apps/:app/authorizations', writesOnly);
  api.use('/v1/apps/:app/authorizations/*', writesOnly);
  api.use('/v1/apps/:app/grants/*', writesOnly);

  /** The app, the Authorizations API switch, the scope ceiling, then the user's credentials. */
  async function begin(
    c: Context<AppEnv>,
    name: string,
    operation: Operation,
    requested: { field: string; scopes: readonly string[] | undefined }[] = [],
  ): Promise<{ app: AppConfig; user: UserCredentials; req: AuthorizationsRequest }> {
    const target = appFor(c, deps, name, operation);
    if (target.authorizationsApi !== true)
      throw new GatewayError('authorizations-disabled', {
        detail: `The OAuth Authorizations API is not enabled for app "${target.name}" (authorizations_api in APPS)`,
      });
    const policy = c.get('caller').policy;
    for (const r of requested) checkAuthorizationScopes(policy, r.field, r.scopes);
    const parsed = parseUserCredentials(
      c.req.header(USER_AUTHORIZATION_HEADER),
      c.req.header(OTP_HEADER),
    );
    if (!parsed.ok) throw new GatewayError('invalid-request', { detail: parsed.error });
    await chargeLogin(c, parsed.value.login);
    return {
      app: target,
      user: parsed.value,
      req: { requestId: c.get('requestId'), audit: c.get('audit') },
    };
  }

  /** `Link: <…?page=N>; rel="next"` on the gateway's own URL (PUBLIC_URL), never GHES's. */
  function linkNext(c: Context<AppEnv>, page: Page<unknown>, perPage: number | undefined): void {
    if (page.nextPage === undefined) return;
    const url = new URL(`${config.publicUrl}${new URL(c.req.url).pathname}`);
    url.searchParams.set('page', String(page.nextPage));
    if (perPage !== undefined) url.searchParams.set('per_page', String(perPage));
    c.header('link', `<${url.href}>; rel="next"`);
  }

  api.route(getOrCreateRoute, async (c, { params, body: fields }) => {
    const { app, user, req } = await begin(c, params.app, 'authorizations_write', [
      { field: 'scopes', scopes: fields.scopes },
    ]);
    const result = await deps.authorizations.getOrCreate(req, app, user, fields);
    const authorization = toPublicAuthorization(result.authorization);
    if (result.created)
      return c.json({ ...authorization, token: result.token, token_returned: true as const }, 201);
    return c.json(
      { ...authorization, token_returned: false as const, next: EXISTING_TOKEN_NEXT },
      200,
    );
  });

  api.route(createAuthRoute, async (c, { params, body: fields }) => {
    const { app, user, req } = await begin(c, params.app, 'authorizations_write', [
      { field: 'scopes', scopes: fields.scopes },
    ]);
    const created = await deps.authorizations.create(req, app, user, fields);
    return c.json({ ...toPublicAuthorization(created), token: created.token }, 201);
  });

  api.route(listRoute, async (c, { params, query: q }) => {
    const { app, user, req } = await begin(c, params.app, 'authorizations_read');
    const page = await deps.authorizations.list(req, app, user, {
      page: q.page,
      perPage: q.per_page,
    });
    linkNext(c, page, q.per_page);
    return c.json(page.items.map(toPublicAuthorization), 200);
  });

  api.route(getRoute, async (c, { params: { app: name, id } }) => {
    const { app, user, req } = await begin(c, name, 'authorizations_read');
    return c.json(toPublicAuthorization(await deps.authorizations.get(req, app, user, id)), 200);
  });

  api.route(updateRoute, async (c, { params: { app: name, id }, body: update }) => {
    const { app, user, req } = await begin(c, name, 'authorizations_write', [
      { field: 'scopes', scopes: update.scopes },
      { field: 'add_scopes', scopes: update.add_scopes },
    ]);
    const updated = await deps.authorizations.update(req, app, user, id, update);
    return c.json(toPublicAuthorization(updated), 200);
  });

  api.route(deleteRoute, async (c, { params: { app: name, id } }) => {
    const { app, user, req } = await begin(c, name, 'authorizations_write');
    await deps.authorizations.delete(req, app, user, id);
    return c.body(null, 204);
  });

  api.route(listGrantsRoute, async (c, { params, query: q }) => {
    const { app, user, req } = await begin(c, params.app, 'authorizations_read');
    const page = await deps.authorizations.listGrants(req, app, user, {
      page: q.page,
      perPage: q.per_page,
    });
    linkNext(c, page, q.per_page);
    return c.json(page.items, 200);
  });

  api.route(deleteGrantRoute, async (c, { params: { app: name, id } }) => {
    const { app, user, req } = await begin(c, name, 'authorizations_write');
    await deps.authorizations.deleteGrant(req, app, user, id);
    return c.body(null, 204);
  });
}
