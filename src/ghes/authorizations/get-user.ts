/**
 * GET /user: who the credentials belong to. Used only when an authorization or grant answer
 * names no user, for the grant epoch that makes the user's cached checks re-check.
 */
import { ghesRequest, type GhesContext } from '../request';
import { userCall } from './call';
import { AuthenticatedUserSchema } from './types';
import type { UserCredentials } from './user-call';

export async function getUserId(ctx: GhesContext, user: UserCredentials): Promise<number> {
  const res = await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'user_get',
      method: 'GET',
      path: '/user',
      answer: AuthenticatedUserSchema,
    }),
  );
  return res.data.id;
}
