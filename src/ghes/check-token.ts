/**
 * Check a token: 200 with its authorization, or 404. Idempotent.
 * - body style (GHES 2.20+):   POST /applications/{client_id}/token
 * - legacy (GHES 2.18 – 3.3):  GET  /applications/{client_id}/tokens/{access_token}
 */
import { ghesRequest, type GhesContext } from './request';
import { tokenInBody, tokenInPath } from './token-placement';
import { checkAnswerOf, type PublicAuthorization } from './types';
import type { ApiStyle } from '../config/types';

export async function checkToken(
  ctx: GhesContext,
  accessToken: string,
  style: ApiStyle = 'body',
): Promise<PublicAuthorization> {
  const res = await ghesRequest(ctx, {
    ...(style === 'body'
      ? { operation: 'check', method: 'POST', ...tokenInBody('/token', accessToken) }
      : { operation: 'legacy_check', method: 'GET', ...tokenInPath('/tokens', accessToken) }),
    retry: 'idempotent',
    answer: checkAnswerOf(ctx.app.clientId, accessToken),
  });
  return res.data;
}
