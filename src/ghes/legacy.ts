/**
 * Legacy path-style calls (GHES 2.18 – 3.3, deprecated from 2.20): the token is part of the URL.
 * Trust boundary: the real path goes only to `fetch`; logs get `logPath` with the token replaced.
 *
 * - GET    /applications/{client_id}/tokens/{access_token}  check
 * - POST   /applications/{client_id}/tokens/{access_token}  reset
 * - DELETE /applications/{client_id}/tokens/{access_token}  revoke one token
 * - DELETE /applications/{client_id}/grants/{access_token}  revoke the grant
 */
import { ghesRequest, type GhesContext } from './request';
import type { GhesAuthorization } from './types';

const REDACTED = '{access_token}';

export async function legacyCheckToken(
  ctx: GhesContext,
  accessToken: string,
): Promise<GhesAuthorization> {
  const res = await ghesRequest<GhesAuthorization>(ctx, {
    operation: 'legacy_check',
    method: 'GET',
    path: `/tokens/${encodeURIComponent(accessToken)}`,
    logPath: `/tokens/${REDACTED}`,
    retry: 'idempotent',
    secrets: [accessToken, encodeURIComponent(accessToken)],
  });
  return res.data;
}

export async function legacyResetToken(
  ctx: GhesContext,
  accessToken: string,
): Promise<GhesAuthorization> {
  const res = await ghesRequest<GhesAuthorization>(ctx, {
    operation: 'legacy_reset',
    method: 'POST',
    path: `/tokens/${encodeURIComponent(accessToken)}`,
    logPath: `/tokens/${REDACTED}`,
    retry: 'never',
    secrets: [accessToken, encodeURIComponent(accessToken)],
  });
  return res.data;
}

export async function legacyRevokeToken(ctx: GhesContext, accessToken: string): Promise<void> {
  await ghesRequest<undefined>(ctx, {
    operation: 'legacy_delete',
    method: 'DELETE',
    path: `/tokens/${encodeURIComponent(accessToken)}`,
    logPath: `/tokens/${REDACTED}`,
    retry: 'idempotent',
    notFoundAfterAmbiguousIsSuccess: true,
    secrets: [accessToken, encodeURIComponent(accessToken)],
  });
}

export async function legacyRevokeGrant(ctx: GhesContext, accessToken: string): Promise<void> {
  await ghesRequest<undefined>(ctx, {
    operation: 'legacy_grant',
    method: 'DELETE',
    path: `/grants/${encodeURIComponent(accessToken)}`,
    logPath: `/grants/${REDACTED}`,
    retry: 'idempotent',
    notFoundAfterAmbiguousIsSuccess: true,
    secrets: [accessToken, encodeURIComponent(accessToken)],
  });
}
