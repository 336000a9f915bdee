/**
 * POST /applications/{client_id}/token/scoped — a new, narrower user token (GitHub Apps only,
 * GHES 3.0+). Mints a credential, so never retried.
 */
import { ghesRequest, type GhesContext } from './request';
import type { GhesAuthorization } from './types';

export interface ScopeTokenOptions {
  access_token: string;
  target?: string;
  target_id?: number;
  repositories?: string[];
  repository_ids?: number[];
  permissions?: Record<string, string>;
}

export async function scopeToken(ctx: GhesContext, options: ScopeTokenOptions): Promise<GhesAuthorization> {
  const res = await ghesRequest<GhesAuthorization>(ctx, {
    operation: 'scoped',
    method: 'POST',
    path: '/token/scoped',
    logPath: '/token/scoped',
    body: options,
    retry: 'never',
    secrets: [options.access_token],
  });
  return res.data;
}
