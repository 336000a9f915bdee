/**
 * GitHub's OAuth Authorizations API under /api/v3 (deprecated, yet described by every release
 * 2.18 – 3.22): grants (one per user × app) and authorizations (tokens) of the user named by
 * Basic `login:password` (user-auth.ts). Tokens made here are real emulator tokens: the
 * app-token API checks, resets and deletes them. Rules from GitHub's descriptions: the token is
 * shown only when created; a fingerprint tells apart the authorizations of one user × app
 * (get-or-create returns the existing one with 200, POST refuses a duplicate with 422); PATCH
 * takes one of `scopes`, `add_scopes`, `remove_scopes`; deleting a grant deletes its tokens.
 * Only OAuth apps are served (GitHub: "The OAuth app client key"); personal access tokens
 * (POST without client_id) are not emulated.
 */
import type { Hono } from 'hono';
import { parseAuthorizationBody, type AuthorizationBody } from './authorizations-body';
import type { EmulatorCore } from './core';
import { applicationGrant, grantsOf } from './grants';
import type { AuthorizationOperation } from './operations';
import { renderContext, type Ctx, type EmulatorEnv } from './pipeline';
import { authorization } from './render';
import { parseJsonText } from './request-body';
import {
  invalidRequest,
  json,
  noContent,
  notFound,
  problemsParsingJson,
  validationFailed,
  type Reply,
} from './responses';
import type { Account, App, TokenRecord } from './state';
import { userRoute, type UserArgs } from './user-auth';

type Args = UserArgs;

const ANCHORS: Readonly<Record<AuthorizationOperation, string>> = {
  list_grants: 'list-your-grants',
  get_grant: 'get-a-single-grant',
  delete_grant: 'delete-a-grant',
  list_authorizations: 'list-your-authorizations',
  create_authorization: 'create-a-new-authorization',
  get_or_create_authorization: 'get-or-create-an-authorization-for-a-specific-app',
  get_or_create_authorization_fingerprint:
    'get-or-create-an-authorization-for-a-specific-app-and-fingerprint',
  get_authorization: 'get-a-single-authorization',
  update_authorization: 'update-an-existing-authorization',
  delete_authorization: 'delete-an-authorization',
};

function run(
  core: EmulatorCore,
  op: AuthorizationOperation,
  handler: (args: Args) => Promise<Response>,
) {
  return userRoute(core, op, `oauth-authorizations/oauth-authorizations#${ANCHORS[op]}`, handler);
}

const RESOURCE = 'OauthAccess';

async function readBody(
  c: Ctx,
  reply: Reply,
  required: readonly string[] = [],
): Promise<{ ok: true; value: AuthorizationBody } | { ok: false; response: Response }> {
  const text = parseJsonText(await c.req.text());
  if (!text.ok) return { ok: false, response: problemsParsingJson(reply) };
  const parsed = parseAuthorizationBody(text.value, required);
  if (parsed.ok) return parsed;
  return {
    ok: false,
    response:
      parsed.kind === 'invalid'
        ? invalidRequest(reply, parsed.detail)
        : validationFailed(reply, parsed.errors),
  };
}

function invalid(reply: Reply, field: string, code = 'invalid', message?: string): Response {
  return validationFailed(reply, [
    { resource: RESOURCE, field, code, ...(message !== undefined && { message }) },
  ]);
}

/** The user's live authorizations, oldest first. */
function authorizationsOf(core: EmulatorCore, user: Account): TokenRecord[] {
  const now = core.now();
  return [...core.state.tokens.values()]
    .filter((t) => t.userId === user.id && (t.expiresAt === null || t.expiresAt > now))
    .sort((a, b) => a.id - b.id);
}

function byFingerprint(
  core: EmulatorCore,
  user: Account,
  clientId: string,
  fingerprint: string | null,
) {
  return authorizationsOf(core, user).find(
    (t) => t.clientId === clientId && t.fingerprint === fingerprint,
  );
}

/** `page` / `per_page` (max 100), GitHub's pagination. */
function page<T>(c: Ctx, items: T[]): T[] {
  const perPage = Math.min(100, Math.max(1, Number(c.req.query('per_page') ?? 30) || 30));
  const index = Math.max(1, Number(c.req.query('page') ?? 1) || 1);
  return items.slice((index - 1) * perPage, index * perPage);
}

async function render(
  args: Args,
  record: TokenRecord,
  status: number,
  showToken: boolean,
): Promise<Response> {
  const { c, core, reply } = args;
  const ctx = renderContext(core, c);
  const body = await authorization(record, core.state, ctx, { authorizationsApi: true, showToken });
  const location =
    status === 200 && !showToken && c.req.method === 'GET'
      ? {}
      : { location: `${ctx.origin}/api/v3/authorizations/${record.id}` };
  return json(reply, status, body, location);
}

function create(
  args: Args,
  app: App,
  body: AuthorizationBody,
  fingerprint: string | null,
): Promise<Response> {
  const record = args.core.state.createToken(
    {
      app: app.clientId,
      login: args.user.login,
      scopes: body.scopes ?? [],
      note: body.note ?? null,
      noteUrl: body.noteUrl ?? null,
      fingerprint,
      expiresIn: null,
    },
    args.core.now(),
  );
  return render(args, record, 201, true);
}

/** get-or-create: the existing authorization (200, no token) or a new one (201, token). */
async function getOrCreate(
  args: Args,
  fingerprint: string | null,
  body: AuthorizationBody,
): Promise<Response> {
  const app = args.core.state.apps.get(args.c.req.param('client_id') ?? '');
  if (!app || app.kind !== 'oauth_app') return notFound(args.reply);
  if (body.clientSecret !== app.clientSecret) return invalid(args.reply, 'client_secret');
  const existing = byFingerprint(args.core, args.user, app.clientId, fingerprint);
  return existing ? render(args, existing, 200, false) : create(args, app, body, fingerprint);
}

function ownAuthorization(args: Args): TokenRecord | undefined {
  const id = Number(args.c.req.param('authorization_id'));
  return authorizationsOf(args.core, args.user).find((t) => t.id === id);
}

function ownGrant(args: Args) {
  const id = Number(args.c.req.param('grant_id'));
  return grantsOf(args.core.state, args.user.id).find((g) => g.id === id);
}

export function registerAuthorizationRoutes(app: Hono<EmulatorEnv>, core: EmulatorCore): void {
  const grants = (args: Args) =>
    grantsOf(core.state, args.user.id).filter(
      (g) => (args.c.req.query('client_id') ?? g.clientId) === g.clientId,
    );

  app.get(
    '/api/v3/applications/grants',
    run(core, 'list_grants', async (args) => {
      const ctx = renderContext(core, args.c);
      const body = page(args.c, grants(args)).map((g) =>
        applicationGrant(g, core.state, ctx, core.now()),
      );
      return json(args.reply, 200, body);
    }),
  );
  app.get(
    '/api/v3/applications/grants/:grant_id',
    run(core, 'get_grant', async (args) => {
      const grant = ownGrant(args);
      if (!grant) return notFound(args.reply);
      return json(
        args.reply,
        200,
        applicationGrant(grant, core.state, renderContext(core, args.c), core.now()),
      );
    }),
  );
  app.delete(
    '/api/v3/applications/grants/:grant_id',
    run(core, 'delete_grant', async (args) => {
      const grant = ownGrant(args);
      if (!grant) return notFound(args.reply);
      core.state.deleteGrant(grant.clientId, grant.userId);
      return noContent(args.reply);
    }),
  );

  app.get(
    '/api/v3/authorizations',
    run(core, 'list_authorizations', async (args) => {
      const clientId = args.c.req.query('client_id');
      const records = authorizationsOf(core, args.user).filter(
        (t) => clientId === undefined || t.clientId === clientId,
      );
      const ctx = renderContext(core, args.c);
      const view = { authorizationsApi: true, showToken: false } as const;
      const body = await Promise.all(
        page(args.c, records).map((t) => authorization(t, core.state, ctx, view)),
      );
      return json(args.reply, 200, body);
    }),
  );
  app.post(
    '/api/v3/authorizations',
    run(core, 'create_authorization', async (args) => {
      const body = await readBody(args.c, args.reply);
      if (!body.ok) return body.response;
      const { clientId, clientSecret, fingerprint } = body.value;
      if (clientId === undefined) return invalid(args.reply, 'client_id', 'missing_field');
      const client = core.state.apps.get(clientId);
      if (!client || client.kind !== 'oauth_app') return invalid(args.reply, 'client_id');
      if (clientSecret !== client.clientSecret) return invalid(args.reply, 'client_secret');
      if (byFingerprint(core, args.user, client.clientId, fingerprint ?? null))
        return invalid(args.reply, 'fingerprint', 'already_exists');
      return create(args, client, body.value, fingerprint ?? null);
    }),
  );
  app.put(
    '/api/v3/authorizations/clients/:client_id',
    run(core, 'get_or_create_authorization', async (args) => {
      const body = await readBody(args.c, args.reply, ['client_secret']);
      return body.ok
        ? getOrCreate(args, body.value.fingerprint ?? null, body.value)
        : body.response;
    }),
  );
  app.put(
    '/api/v3/authorizations/clients/:client_id/:fingerprint',
    run(core, 'get_or_create_authorization_fingerprint', async (args) => {
      const body = await readBody(args.c, args.reply, ['client_secret']);
      return body.ok
        ? getOrCreate(args, args.c.req.param('fingerprint') ?? null, body.value)
        : body.response;
    }),
  );
  app.get(
    '/api/v3/authorizations/:authorization_id',
    run(core, 'get_authorization', async (args) => {
      const record = ownAuthorization(args);
      return record ? render(args, record, 200, false) : notFound(args.reply);
    }),
  );
  app.patch(
    '/api/v3/authorizations/:authorization_id',
    run(core, 'update_authorization', async (args) => {
      const record = ownAuthorization(args);
      if (!record) return notFound(args.reply);
      const body = await readBody(args.c, args.reply);
      if (!body.ok) return body.response;
      const { scopes, addScopes, removeScopes, note, noteUrl, fingerprint } = body.value;
      if ([scopes, addScopes, removeScopes].filter((s) => s !== undefined).length > 1)
        return invalid(
          args.reply,
          'scopes',
          'invalid',
          'You can only send one of these scope keys at a time.',
        );
      if (
        fingerprint !== undefined &&
        fingerprint !== record.fingerprint &&
        byFingerprint(core, args.user, record.clientId, fingerprint)
      )
        return invalid(args.reply, 'fingerprint', 'already_exists');
      if (scopes !== undefined) record.scopes = [...(scopes ?? [])];
      if (addScopes) record.scopes = [...new Set([...record.scopes, ...addScopes])];
      if (removeScopes) record.scopes = record.scopes.filter((s) => !removeScopes.includes(s));
      if (note !== undefined) record.note = note;
      if (noteUrl !== undefined) record.noteUrl = noteUrl;
      if (fingerprint !== undefined) record.fingerprint = fingerprint;
      record.updatedAt = core.now();
      return render(args, record, 200, false);
    }),
  );
  app.delete(
    '/api/v3/authorizations/:authorization_id',
    run(core, 'delete_authorization', async (args) => {
      const record = ownAuthorization(args);
      if (!record) return notFound(args.reply);
      core.state.revokeToken(record.token);
      return noContent(args.reply);
    }),
  );
}
