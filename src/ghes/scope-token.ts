/**
 * POST /applications/{client_id}/token/scoped — a new, narrower user token (GitHub Apps only,
 * GHES 3.0+). Mints a credential, so never retried.
 */
import { ghesRequest, type GhesContext } from './request';
import { mintedAuthorizationOf, type MintedAuthorization } from './types';

export interface ScopeTokenOptions {
  access_token: string;
  target?: string | undefined;
  target_id?: number | undefined;
  repositories?: string[] | undefined;
  repository_ids?: number[] | undefined;
  permissions?: Record<string, string> | undefined;
}

export async function scopeToken(
  ctx: GhesContext,
  options: ScopeTokenOptions,
): Promise<MintedAuthorization> {
  const res = await ghesRequest(ctx, {
    operation: 'scoped',
    method: 'POST',
    path: '/token/scoped',
    logPath: '/token/scoped',
    body: options,
    retry: 'never',
    secrets: [options.access_token],
    answer: mintedAuthorizationOf(ctx.app.clientId),
  });
  return res.data;
}
