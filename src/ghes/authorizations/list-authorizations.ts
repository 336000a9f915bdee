/** GET /authorizations?client_id= — the user's authorizations for this app, one page. */
import { ghesRequest, type GhesContext } from '../request';
import type { PublicAuthorization } from '../types';
import { userCall } from './call';
import { listQuery, nextPageOf, type Page, type PageRequest } from './page';
import { AuthorizationListSchema } from './types';
import type { UserCredentials } from './user-call';

export async function listAuthorizations(
  ctx: GhesContext,
  user: UserCredentials,
  page: PageRequest = {},
): Promise<Page<PublicAuthorization>> {
  const res = await ghesRequest(
    ctx,
    userCall(user, {
      operation: 'authorizations_list',
      method: 'GET',
      path: `/authorizations${listQuery(ctx.app.clientId, page)}`,
      answer: AuthorizationListSchema,
    }),
  );
  const next = nextPageOf(res.headers);
  return { items: res.data, ...(next !== undefined && { nextPage: next }) };
}
