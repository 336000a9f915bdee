/**
 * Delete the app authorization: every token of that user for that app is revoked. 204.
 * Idempotent.
 * - body style (GHES 2.20+):   DELETE /applications/{client_id}/grant
 * - legacy (GHES 2.18 – 3.3):  DELETE /applications/{client_id}/grants/{access_token}
 */
import { ghesRequest, type GhesContext } from './request';
import { tokenInBody, tokenInPath } from './token-placement';
import { NoContentSchema } from './types';
import type { ApiStyle } from '../config/types';

export async function deleteGrant(
  ctx: GhesContext,
  accessToken: string,
  style: ApiStyle = 'body',
): Promise<void> {
  await ghesRequest(ctx, {
    ...(style === 'body'
      ? { operation: 'grant', ...tokenInBody('/grant', accessToken) }
      : { operation: 'legacy_grant', ...tokenInPath('/grants', accessToken) }),
    method: 'DELETE',
    retry: 'idempotent',
    notFoundAfterAmbiguousIsSuccess: true,
    answer: NoContentSchema,
  });
}
