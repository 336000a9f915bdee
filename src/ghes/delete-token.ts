/**
 * Revoke one token: 204. Idempotent.
 * - body style (GHES 2.20+):   DELETE /applications/{client_id}/token
 * - legacy (GHES 2.18 – 3.3):  DELETE /applications/{client_id}/tokens/{access_token}
 */
import { ghesRequest, type GhesContext } from './request';
import { tokenInBody, tokenInPath } from './token-placement';
import { NoContentSchema } from './types';
import type { ApiStyle } from '../config/types';

export async function deleteToken(
  ctx: GhesContext,
  accessToken: string,
  style: ApiStyle = 'body',
): Promise<void> {
  await ghesRequest(ctx, {
    ...(style === 'body'
      ? { operation: 'delete', ...tokenInBody('/token', accessToken) }
      : { operation: 'legacy_delete', ...tokenInPath('/tokens', accessToken) }),
    method: 'DELETE',
    retry: 'idempotent',
    notFoundAfterAmbiguousIsSuccess: true,
    answer: NoContentSchema,
  });
}
