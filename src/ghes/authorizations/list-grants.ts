/** GET /applications/grants?client_id= — the user's grant for this app (a one-item page). */
import { ghesRequest, type GhesContext } from '../request';
import { userCall } from './call';
import { listQuery, nextPageOf, type Page, type PageRequest } from './page';
import { GrantListSchema, type Grant } from './types';
import type { UserCredentials } from './user-call';

export async function listGrants(
  ctx: GhesContext,
  user: UserCredentials,
  page: PageRequest = {},
): Promise<Page<Grant>> {
  const res = await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'grants_list',
      method: 'GET',
      path: `/applications/grants${listQuery(ctx.app.clientId, page)}`,
      answer: GrantListSchema,
    }),
  );
  const next = nextPageOf(res.headers);
  return { items: res.data, ...(next !== undefined && { nextPage: next }) };
}
