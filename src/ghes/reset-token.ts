/**
 * PATCH /applications/{client_id}/token — reset a token (GHES 2.20+): GHES mints a new token and
 * the old one stops working. Never retried: a retry after a lost response would mint again.
 */
import { ghesRequest, type GhesContext } from './request';
import type { GhesAuthorization } from './types';

export async function resetToken(
  ctx: GhesContext,
  accessToken: string,
): Promise<GhesAuthorization> {
  const res = await ghesRequest<GhesAuthorization>(ctx, {
    operation: 'reset',
    method: 'PATCH',
    path: '/token',
    logPath: '/token',
    body: { access_token: accessToken },
    retry: 'never',
    secrets: [accessToken],
  });
  return res.data;
}
