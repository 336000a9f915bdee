/** POST /applications/{client_id}/token — check a token (GHES 2.20+). 200 or 404. */
import { ghesRequest, type GhesContext } from './request';
import type { GhesAuthorization } from './types';

export async function checkToken(
  ctx: GhesContext,
  accessToken: string,
): Promise<GhesAuthorization> {
  const res = await ghesRequest<GhesAuthorization>(ctx, {
    operation: 'check',
    method: 'POST',
    path: '/token',
    logPath: '/token',
    body: { access_token: accessToken },
    retry: 'idempotent',
    secrets: [accessToken],
  });
  return res.data;
}
