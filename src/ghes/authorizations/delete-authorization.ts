/** DELETE /authorizations/{authorization_id}: revokes that one token. 204; idempotent. */
import { ghesRequest, type GhesContext } from '../request';
import { NoContentSchema } from '../types';
import { userCall } from './call';
import type { UserCredentials } from './user-call';

export async function deleteAuthorization(
  ctx: GhesContext,
  user: UserCredentials,
  id: number,
): Promise<void> {
  await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'authorization_delete',
      method: 'DELETE',
      path: `/authorizations/${id}`,
      answer: NoContentSchema,
    }),
  );
}
