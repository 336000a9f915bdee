/** GET /applications/grants/{grant_id}: read before a delete, to check the grant's app. */
import { ghesRequest, type GhesContext } from '../request';
import { userCall } from './call';
import { GrantSchema, type Grant } from './types';
import type { UserCredentials } from './user-call';

export async function getGrant(
  ctx: GhesContext,
  user: UserCredentials,
  id: number,
): Promise<Grant> {
  const res = await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'grant_get',
      method: 'GET',
      path: `/applications/grants/${id}`,
      answer: GrantSchema,
    }),
  );
  return res.data;
}
