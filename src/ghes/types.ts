/**
 * GHES app-token API shapes (GitHub's `authorization` schema, GHES 2.18 – 3.22; see
 * ../shared/ghes-openapi). Only the fields the gateway reads or passes on are typed.
 */

export interface GhesSimpleUser {
  login: string;
  id: number;
  node_id?: string;
  avatar_url?: string;
  type?: string;
  site_admin?: boolean;
  [field: string]: unknown;
}

export interface GhesScopedInstallation {
  permissions: Record<string, string>;
  repository_selection: 'all' | 'selected';
  single_file_name: string | null;
  repositories_url: string;
  account: GhesSimpleUser;
  has_multiple_single_files?: boolean;
  single_file_paths?: string[];
}

/** What GHES returns from check / reset / scoped (and legacy check / reset). */
export interface GhesAuthorization {
  id: number;
  url: string;
  scopes: string[] | null;
  /** Secret: the token itself. */
  token: string;
  token_last_eight: string | null;
  /** Secret-derived: never passed on. */
  hashed_token: string | null;
  app: { client_id: string; name: string; url: string };
  note: string | null;
  note_url: string | null;
  updated_at: string;
  created_at: string;
  fingerprint: string | null;
  user?: GhesSimpleUser | null;
  installation?: GhesScopedInstallation | null;
  expires_at?: string | null;
}

/** The authorization with the secret fields removed: what check answers and the cache stores. */
export type PublicAuthorization = Omit<GhesAuthorization, 'token' | 'hashed_token'>;

/**
 * Allow-list copy (not a spread-and-delete): a field GHES adds in a later version is not passed
 * on until someone decides it is safe.
 */
export function toPublicAuthorization(a: GhesAuthorization): PublicAuthorization {
  const out: PublicAuthorization = {
    id: a.id,
    url: a.url,
    scopes: a.scopes,
    token_last_eight: a.token_last_eight,
    app: { client_id: a.app.client_id, name: a.app.name, url: a.app.url },
    note: a.note,
    note_url: a.note_url,
    updated_at: a.updated_at,
    created_at: a.created_at,
    fingerprint: a.fingerprint,
  };
  if (a.user !== undefined) {
    out.user =
      a.user === null
        ? null
        : {
            login: a.user.login,
            id: a.user.id,
            ...(a.user.node_id !== undefined && { node_id: a.user.node_id }),
            ...(a.user.type !== undefined && { type: a.user.type }),
            ...(a.user.site_admin !== undefined && { site_admin: a.user.site_admin }),
          };
  }
  if (a.installation !== undefined) out.installation = a.installation;
  if (a.expires_at !== undefined) out.expires_at = a.expires_at;
  return out;
}
