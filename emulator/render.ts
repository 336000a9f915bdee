/**
 * JSON bodies in GHES's shapes for one release: `authorization`, `simple-user`,
 * `scoped-installation`. Field order follows GitHub's examples; optional fields follow the
 * release's schema (`expires_at` only from 2.22, `user_view_type` only from 3.12, no null-valued
 * `note`/`note_url`/`fingerprint` before 2.20).
 */
import type { Account, App, EmulatorState, TokenRecord } from './state';
import { hashToken } from './tokens';
import { featuresOf, type GhesVersion } from './versions';

export interface RenderContext {
  readonly version: GhesVersion;
  /** Scheme + host of the emulated appliance, e.g. `https://ghes.example.com`. */
  readonly origin: string;
}

/** GitHub's timestamps: ISO 8601 in UTC with second precision. */
export function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** GraphQL global ids of the pre-2021 format, as GHES still returns them: "04:User1" base64. */
export function nodeId(account: Account): string {
  return btoa(`0${account.type.length}:${account.type}${account.id}`);
}

export function simpleUser(account: Account, ctx: RenderContext): Record<string, unknown> {
  const api = `${ctx.origin}/api/v3`;
  const user = `${api}/users/${account.login}`;
  return {
    login: account.login,
    id: account.id,
    node_id: nodeId(account),
    avatar_url: `${ctx.origin}/avatars/u/${account.id}`,
    gravatar_id: '',
    url: user,
    html_url: `${ctx.origin}/${account.login}`,
    followers_url: `${user}/followers`,
    following_url: `${user}/following{/other_user}`,
    gists_url: `${user}/gists{/gist_id}`,
    starred_url: `${user}/starred{/owner}{/repo}`,
    subscriptions_url: `${user}/subscriptions`,
    organizations_url: `${user}/orgs`,
    repos_url: `${user}/repos`,
    events_url: `${user}/events{/privacy}`,
    received_events_url: `${user}/received_events`,
    type: account.type,
    ...(featuresOf(ctx.version).userViewType && { user_view_type: 'public' }),
    site_admin: account.siteAdmin,
  };
}

/**
 * How the Authorizations API differs from the app-token API: `token` is the token only when just
 * created (an empty string otherwise, as GitHub's deprecation of `token` there says), null
 * members stay (its `authorization` schema requires them in every release), and no `user` or
 * `installation` (GitHub's examples of these endpoints have neither).
 */
export interface AuthorizationView {
  authorizationsApi: true;
  showToken: boolean;
}

export async function authorization(
  record: TokenRecord,
  state: EmulatorState,
  ctx: RenderContext,
  view?: AuthorizationView,
): Promise<Record<string, unknown>> {
  const app: App | undefined = state.apps.get(record.clientId);
  const user = state.accounts.get(record.userId);
  if (!app || !user) throw new Error('token refers to a removed app or user');
  const body: Record<string, unknown> = {
    id: record.id,
    url: `${ctx.origin}/api/v3/authorizations/${record.id}`,
    scopes: [...record.scopes],
    token: view && !view.showToken ? '' : record.token,
    token_last_eight: record.token.slice(-8),
    hashed_token: await hashToken(record.token),
    app: { client_id: app.clientId, name: app.name, url: app.url },
    note: record.note,
    note_url: record.noteUrl,
    updated_at: isoSeconds(record.updatedAt),
    created_at: isoSeconds(record.createdAt),
    fingerprint: record.fingerprint,
  };
  const features = featuresOf(ctx.version);
  if (!features.nullableAuthorizationFields && !view) {
    for (const key of ['note', 'note_url', 'fingerprint']) if (body[key] === null) delete body[key];
  }
  if (features.expiresAt) {
    body['expires_at'] = record.expiresAt === null ? null : isoSeconds(record.expiresAt);
  }
  if (view) return body;
  body['user'] = simpleUser(user, ctx);
  if (record.scope) {
    const account = state.accounts.get(record.scope.accountId);
    if (!account) throw new Error('scoped token refers to a removed account');
    body['installation'] = {
      permissions: { ...record.scope.permissions },
      repository_selection: record.scope.repositorySelection,
      single_file_name: null,
      has_multiple_single_files: false,
      single_file_paths: [],
      repositories_url: `${ctx.origin}/api/v3/user/repos`,
      account: simpleUser(account, ctx),
    };
  }
  return body;
}
