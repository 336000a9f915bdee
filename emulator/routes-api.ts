/**
 * GHES REST routes under /api/v3 for the OAuth-app / GitHub-App token endpoints. Every route
 * runs the same pipeline, in the order an appliance applies it:
 *   version gate (404 when the release lacks the endpoint) → call count → latency and faults
 *   → API-version header → client Basic auth → body → token lookup → answer.
 * Trust boundary: the Basic credentials and the token are the only things checked; anything else
 * in the request is ignored like GHES ignores it.
 */
import type { Hono } from 'hono';
import type { EmulatorCore } from './core';
import type { TokenOperation } from './operations';
import {
  admit,
  afterCommit,
  apiNotFound,
  renderContext,
  type Ctx,
  type EmulatorEnv,
} from './pipeline';
import { authorization } from './render';
import { parseJsonText, parseScopedBody, parseTokenBody, type BodyResult } from './request-body';
import {
  badCredentials,
  invalidRequest,
  noContent,
  notFound,
  problemsParsingJson,
  requiresAuthentication,
  validationFailed,
  json,
  type Reply,
} from './responses';
import { ValidationFailure, type App, type TokenRecord } from './state';
import { safeEqual } from './tokens';
import { featuresOf, type VersionFeatures } from './versions';

interface OperationInfo {
  served: (f: VersionFeatures) => boolean;
  docs: string;
}

const OAUTH_DOCS = 'apps/oauth-applications';
const OPERATION_INFO: Readonly<Record<TokenOperation, OperationInfo>> = {
  check: { served: (f) => f.bodyStyle, docs: `${OAUTH_DOCS}#check-a-token` },
  reset: { served: (f) => f.bodyStyle, docs: `${OAUTH_DOCS}#reset-a-token` },
  delete: { served: (f) => f.bodyStyle, docs: `${OAUTH_DOCS}#delete-an-app-token` },
  grant: { served: (f) => f.bodyStyle, docs: `${OAUTH_DOCS}#delete-an-app-authorization` },
  scoped: { served: (f) => f.scoped, docs: 'apps/apps#create-a-scoped-access-token' },
  legacy_check: { served: (f) => f.legacy, docs: `${OAUTH_DOCS}#check-an-authorization` },
  legacy_reset: { served: (f) => f.legacy, docs: `${OAUTH_DOCS}#reset-an-authorization` },
  legacy_delete: {
    served: (f) => f.legacy,
    docs: `${OAUTH_DOCS}#revoke-an-authorization-for-an-application`,
  },
  legacy_grant: {
    served: (f) => f.legacy,
    docs: `${OAUTH_DOCS}#revoke-a-grant-for-an-application`,
  },
};

/** What one operation does once the request has passed faults, auth and the version gate. */
type Handler = (args: { c: Ctx; core: EmulatorCore; reply: Reply; app: App }) => Promise<Response>;

type Auth = { ok: true; app: App } | { ok: false; missing: boolean };

/**
 * Client authentication of these endpoints: HTTP Basic with the app's client_id and
 * client_secret, and the client_id must be the one in the path.
 */
function authenticate(core: EmulatorCore, header: string | undefined, clientId: string): Auth {
  const match = header ? /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return { ok: false, missing: true };
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(match[1]), (ch) => ch.charCodeAt(0)));
  } catch {
    return { ok: false, missing: false };
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, missing: false };
  const id = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  const app = core.state.apps.get(clientId);
  if (id !== clientId || !app || !safeEqual(secret, app.clientSecret))
    return { ok: false, missing: false };
  return { ok: true, app };
}

function run(core: EmulatorCore, op: TokenOperation, handler: Handler) {
  return async (c: Ctx): Promise<Response> => {
    const info = OPERATION_INFO[op];
    if (!info.served(featuresOf(core.config.version))) return apiNotFound(core, c);
    const { reply, response: early, commitThenFail } = await admit(core, c, op, info.docs);
    if (early) return early;
    const auth = authenticate(core, c.req.header('authorization'), c.req.param('client_id') ?? '');
    if (!auth.ok) {
      // GHES hides whether the client exists: a wrong or missing secret is a plain 404 unless the
      // appliance is set up to answer 401 (badCredentialsStatus).
      if (core.config.badCredentialsStatus === 404) return notFound(reply);
      return auth.missing ? requiresAuthentication(reply) : badCredentials(reply);
    }
    const response = await handler({ c, core, reply, app: auth.app });
    return afterCommit(core, reply, commitThenFail, response);
  };
}

/** Body parsing shared by the body-style routes; the failure becomes GitHub's answer. */
async function readBody<T>(
  c: Ctx,
  reply: Reply,
  parse: (value: unknown) => BodyResult<T>,
): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  const text = parseJsonText(await c.req.text());
  if (!text.ok) return { ok: false, response: problemsParsingJson(reply) };
  const result = parse(text.value);
  if (result.ok) return result;
  switch (result.kind) {
    case 'invalid':
      return { ok: false, response: invalidRequest(reply, result.detail) };
    case 'failed':
      return { ok: false, response: validationFailed(reply, result.errors) };
  }
}

/** Finds the live token named by the body (`access_token`) or path, or answers 404. */
function lookup(core: EmulatorCore, app: App, token: string): TokenRecord | undefined {
  return core.state.activeToken(app.clientId, token, core.now());
}

async function answerAuthorization(
  core: EmulatorCore,
  c: Ctx,
  reply: Reply,
  record: TokenRecord,
): Promise<Response> {
  return json(reply, 200, await authorization(record, core.state, renderContext(core, c)));
}

const tokenPath = '/api/v3/applications/:client_id/token';
const legacyTokenPath = '/api/v3/applications/:client_id/tokens/:access_token';

export function registerApiRoutes(app: Hono<EmulatorEnv>, core: EmulatorCore): void {
  app.post(
    tokenPath,
    run(core, 'check', async ({ c, reply, app: client }) => {
      const body = await readBody(c, reply, parseTokenBody);
      if (!body.ok) return body.response;
      const record = lookup(core, client, body.value);
      return record ? answerAuthorization(core, c, reply, record) : notFound(reply);
    }),
  );

  app.patch(
    tokenPath,
    run(core, 'reset', async ({ c, reply, app: client }) => {
      const body = await readBody(c, reply, parseTokenBody);
      if (!body.ok) return body.response;
      const record = lookup(core, client, body.value);
      if (!record) return notFound(reply);
      return answerAuthorization(core, c, reply, core.state.resetToken(record, core.now()));
    }),
  );

  app.delete(
    tokenPath,
    run(core, 'delete', async ({ c, reply, app: client }) => {
      const body = await readBody(c, reply, parseTokenBody);
      if (!body.ok) return body.response;
      const record = lookup(core, client, body.value);
      if (!record) return notFound(reply);
      core.state.revokeToken(record.token);
      return noContent(reply);
    }),
  );

  app.delete(
    '/api/v3/applications/:client_id/grant',
    run(core, 'grant', async ({ c, reply, app: client }) => {
      const body = await readBody(c, reply, parseTokenBody);
      if (!body.ok) return body.response;
      const record = lookup(core, client, body.value);
      if (!record) return notFound(reply);
      core.state.deleteGrant(client.clientId, record.userId);
      return noContent(reply);
    }),
  );

  app.post(
    `${tokenPath}/scoped`,
    run(core, 'scoped', async ({ c, reply, app: client }) => {
      // Scoping is a GitHub App feature: an OAuth app's client_id names no GitHub App, so GHES
      // finds nothing to scope with and answers 404 like for an unknown client.
      if (client.kind !== 'github_app') return notFound(reply);
      const body = await readBody(c, reply, (v) => parseScopedBody(v, core.config.version));
      if (!body.ok) return body.response;
      const record = lookup(core, client, body.value.accessToken);
      if (!record) return notFound(reply);
      try {
        const scoped = core.state.scopeToken(record, body.value, core.now());
        return answerAuthorization(core, c, reply, scoped);
      } catch (err) {
        if (!(err instanceof ValidationFailure)) throw err;
        return validationFailed(reply, [
          { resource: 'ScopedAccessToken', field: err.field, code: err.code, message: err.message },
        ]);
      }
    }),
  );

  app.get(
    legacyTokenPath,
    run(core, 'legacy_check', async ({ c, reply, app: client }) => {
      const record = lookup(core, client, c.req.param('access_token') ?? '');
      return record ? answerAuthorization(core, c, reply, record) : notFound(reply);
    }),
  );

  app.post(
    legacyTokenPath,
    run(core, 'legacy_reset', async ({ c, reply, app: client }) => {
      const record = lookup(core, client, c.req.param('access_token') ?? '');
      if (!record) return notFound(reply);
      return answerAuthorization(core, c, reply, core.state.resetToken(record, core.now()));
    }),
  );

  app.delete(
    legacyTokenPath,
    run(core, 'legacy_delete', async ({ c, reply, app: client }) => {
      const record = lookup(core, client, c.req.param('access_token') ?? '');
      if (!record) return notFound(reply);
      core.state.revokeToken(record.token);
      return noContent(reply);
    }),
  );

  app.delete(
    '/api/v3/applications/:client_id/grants/:access_token',
    run(core, 'legacy_grant', async ({ c, reply, app: client }) => {
      const record = lookup(core, client, c.req.param('access_token') ?? '');
      if (!record) return notFound(reply);
      core.state.deleteGrant(client.clientId, record.userId);
      return noContent(reply);
    }),
  );
}
