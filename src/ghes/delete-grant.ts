/**
 * DELETE /applications/{client_id}/grant — delete the app authorization (GHES 2.20+): every token
 * of that user for that app is revoked. 204. Idempotent.
 */
import { ghesRequest, type GhesContext } from './request';
import { NoContentSchema } from './types';

export async function deleteGrant(ctx: GhesContext, accessToken: string): Promise<void> {
  await ghesRequest(ctx, {
    operation: 'grant',
    method: 'DELETE',
    path: '/grant',
    logPath: '/grant',
    body: { access_token: accessToken },
    retry: 'idempotent',
    notFoundAfterAmbiguousIsSuccess: true,
    secrets: [accessToken],
    answer: NoContentSchema,
  });
}
