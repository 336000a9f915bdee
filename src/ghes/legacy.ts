/**
 * Legacy path-style calls (GHES 2.18 – 3.3, deprecated from 2.20): the token is part of the URL.
 * Trust boundary: the real path goes only to `fetch`; logs get `logPath` with the token replaced.
 *
 * - GET    /applications/{client_id}/tokens/{access_token}  check
 * - POST   /applications/{client_id}/tokens/{access_token}  reset
 * - DELETE /applications/{client_id}/tokens/{access_token}  revoke one token
 * - DELETE /applications/{client_id}/grants/{access_token}  revoke the grant
 */
import { GatewayError } from '../lib/errors';
import { ghesRequest, type GhesContext } from './request';
import {
  checkAnswerOf,
  mintedAuthorizationOf,
  NoContentSchema,
  type MintedAuthorization,
  type PublicAuthorization,
} from './types';

const REDACTED = '{access_token}';

/**
 * The token as one path segment. `encodeURIComponent` leaves `.` alone and URL parsing resolves
 * `.`/`..` (even `%2e`), so such a "token" would send the app's credentials to another endpoint.
 */
function segment(accessToken: string): string {
  if (/^(\.|%2e)+$/i.test(accessToken)) {
    throw new GatewayError('validation-failed', {
      detail: 'access_token is not a token',
      extensions: { errors: [{ field: 'body.access_token', message: 'is not a token' }] },
    });
  }
  return encodeURIComponent(accessToken);
}

export async function legacyCheckToken(
  ctx: GhesContext,
  accessToken: string,
): Promise<PublicAuthorization> {
  const res = await ghesRequest(ctx, {
    operation: 'legacy_check',
    method: 'GET',
    path: `/tokens/${segment(accessToken)}`,
    logPath: `/tokens/${REDACTED}`,
    retry: 'idempotent',
    secrets: [accessToken, encodeURIComponent(accessToken)],
    answer: checkAnswerOf(ctx.app.clientId, accessToken),
  });
  return res.data;
}

export async function legacyResetToken(
  ctx: GhesContext,
  accessToken: string,
): Promise<MintedAuthorization> {
  const res = await ghesRequest(ctx, {
    operation: 'legacy_reset',
    method: 'POST',
    path: `/tokens/${segment(accessToken)}`,
    logPath: `/tokens/${REDACTED}`,
    retry: 'never',
    secrets: [accessToken, encodeURIComponent(accessToken)],
    answer: mintedAuthorizationOf(ctx.app.clientId),
  });
  return res.data;
}

export async function legacyRevokeToken(ctx: GhesContext, accessToken: string): Promise<void> {
  await ghesRequest(ctx, {
    operation: 'legacy_delete',
    method: 'DELETE',
    path: `/tokens/${segment(accessToken)}`,
    logPath: `/tokens/${REDACTED}`,
    retry: 'idempotent',
    notFoundAfterAmbiguousIsSuccess: true,
    secrets: [accessToken, encodeURIComponent(accessToken)],
    answer: NoContentSchema,
  });
}

export async function legacyRevokeGrant(ctx: GhesContext, accessToken: string): Promise<void> {
  await ghesRequest(ctx, {
    operation: 'legacy_grant',
    method: 'DELETE',
    path: `/grants/${segment(accessToken)}`,
    logPath: `/grants/${REDACTED}`,
    retry: 'idempotent',
    notFoundAfterAmbiguousIsSuccess: true,
    secrets: [accessToken, encodeURIComponent(accessToken)],
    answer: NoContentSchema,
  });
}
