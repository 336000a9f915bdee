/**
 * POST /authorizations with the app's client_id and client_secret: a new token, shown only in
 * this answer. Mints a credential, so never retried: an unclear failure is
 * `upstream-outcome-unknown`. GHES answers 422 `already_exists` for a fingerprint in use.
 */
import { ghesRequest, type GhesContext } from '../request';
import { mintedAuthorizationOf, type MintedAuthorization } from '../types';
import { userCall } from './call';
import type { UserCredentials } from './user-call';

export interface NewAuthorizationFields {
  scopes?: string[] | undefined;
  note?: string | undefined;
  note_url?: string | undefined;
  fingerprint?: string | undefined;
}

export async function createAuthorization(
  ctx: GhesContext,
  user: UserCredentials,
  fields: NewAuthorizationFields,
): Promise<MintedAuthorization> {
  const res = await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'authorization_create',
      method: 'POST',
      path: '/authorizations',
      body: { ...fields, client_id: ctx.app.clientId, client_secret: ctx.app.clientSecret },
      answer: mintedAuthorizationOf(ctx.app.clientId),
    }),
  );
  return res.data;
}
