/** DELETE /applications/{client_id}/token — revoke one token (GHES 2.20+). 204. Idempotent. */
import { ghesRequest, type GhesContext } from './request';
import { NoContentSchema } from './types';

export async function deleteToken(ctx: GhesContext, accessToken: string): Promise<void> {
  await ghesRequest(ctx, {
    operation: 'delete',
    method: 'DELETE',
    path: '/token',
    logPath: '/token',
    body: { access_token: accessToken },
    retry: 'idempotent',
    notFoundAfterAmbiguousIsSuccess: true,
    secrets: [accessToken],
    answer: NoContentSchema,
  });
}
