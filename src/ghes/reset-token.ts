/**
 * Reset a token: GHES mints a new one and the old one stops working. Never retried: a retry
 * after a lost answer would mint again.
 * - body style (GHES 2.20+):   PATCH /applications/{client_id}/token
 * - legacy (GHES 2.18 – 3.3):  POST  /applications/{client_id}/tokens/{access_token}
 */
import { ghesRequest, type GhesContext } from './request';
import { tokenInBody, tokenInPath } from './token-placement';
import { mintedAuthorizationOf, type MintedAuthorization } from './types';
import type { ApiStyle } from '../config/types';

export async function resetToken(
  ctx: GhesContext,
  accessToken: string,
  style: ApiStyle = 'body',
): Promise<MintedAuthorization> {
  const res = await ghesRequest(ctx, {
    ...(style === 'body'
      ? { operation: 'reset', method: 'PATCH', ...tokenInBody('/token', accessToken) }
      : { operation: 'legacy_reset', method: 'POST', ...tokenInPath('/tokens', accessToken) }),
    retry: 'never',
    answer: mintedAuthorizationOf(ctx.app.clientId),
  });
  return res.data;
}
