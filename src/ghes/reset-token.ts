/**
 * PATCH /applications/{client_id}/token — reset a token (GHES 2.20+): GHES mints a new token and
 * the old one stops working. Never retried: a retry after a lost response would mint again.
 */
import { ghesRequest, type GhesContext } from './request';
import { mintedAuthorizationOf, type MintedAuthorization } from './types';

export async function resetToken(
  ctx: GhesContext,
  accessToken: string,
): Promise<MintedAuthorization> {
  const res = await ghesRequest(ctx, {
    operation: 'reset',
    method: 'PATCH',
    path: '/token',
    logPath: '/token',
    body: { access_token: accessToken },
    retry: 'never',
    secrets: [accessToken],
    answer: mintedAuthorizationOf(ctx.app.clientId),
  });
  return res.data;
}
