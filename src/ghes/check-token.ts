/** POST /applications/{client_id}/token — check a token (GHES 2.20+). 200 or 404. */
import { ghesRequest, type GhesContext } from './request';
import { checkAnswerOf, type PublicAuthorization } from './types';

export async function checkToken(
  ctx: GhesContext,
  accessToken: string,
): Promise<PublicAuthorization> {
  const res = await ghesRequest(ctx, {
    operation: 'check',
    method: 'POST',
    path: '/token',
    logPath: '/token',
    body: { access_token: accessToken },
    retry: 'idempotent',
    secrets: [accessToken],
    answer: checkAnswerOf(ctx.app.clientId, accessToken),
  });
  return res.data;
}
