/**
 * PATCH /authorizations/{authorization_id}: exactly one of `scopes` (replace), `add_scopes`,
 * `remove_scopes`, and/or `note`, `note_url`, `fingerprint`. The answer has no token.
 */
import { ghesRequest, type GhesContext } from '../request';
import { AuthorizationSchema, type PublicAuthorization } from '../types';
import { userCall } from './call';
import type { UserCredentials } from './user-call';

export interface AuthorizationUpdate {
  scopes?: string[] | undefined;
  add_scopes?: string[] | undefined;
  remove_scopes?: string[] | undefined;
  note?: string | undefined;
  note_url?: string | undefined;
  fingerprint?: string | undefined;
}

export async function updateAuthorization(
  ctx: GhesContext,
  user: UserCredentials,
  id: number,
  update: AuthorizationUpdate,
): Promise<PublicAuthorization> {
  const res = await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'authorization_update',
      method: 'PATCH',
      path: `/authorizations/${id}`,
      body: update,
      answer: AuthorizationSchema,
    }),
  );
  return res.data;
}
