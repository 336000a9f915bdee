/** GET /authorizations/{authorization_id}. Which app it belongs to is the caller's check. */
import { ghesRequest, type GhesContext } from '../request';
import { AuthorizationSchema, type PublicAuthorization } from '../types';
import { userCall } from './call';
import type { UserCredentials } from './user-call';

export async function getAuthorization(
  ctx: GhesContext,
  user: UserCredentials,
  id: number,
): Promise<PublicAuthorization> {
  const res = await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'authorization_get',
      method: 'GET',
      path: `/authorizations/${id}`,
      answer: AuthorizationSchema,
    }),
  );
  return res.data;
}
