/**
 * DELETE /applications/grants/{grant_id}: revokes the grant and every token of that user for that
 * app. 204; idempotent.
 */
import { ghesRequest, type GhesContext } from '../request';
import { NoContentSchema } from '../types';
import { userCall } from './call';
import type { UserCredentials } from './user-call';

export async function deleteGrantById(
  ctx: GhesContext,
  user: UserCredentials,
  id: number,
): Promise<void> {
  await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'grant_delete_by_id',
      method: 'DELETE',
      path: `/applications/grants/${id}`,
      answer: NoContentSchema,
    }),
  );
}
