/**
 * What GHES's OAuth web-flow endpoint (`POST /login/oauth/access_token`) means when it refuses.
 * GitHub answers most failures with HTTP 200 and an `error` member (GitHub docs, "Troubleshooting
 * OAuth app access token request errors"; "Refreshing user access tokens"); each known one maps
 * to its own problem code. Pure.
 *
 * Trust boundary: `error_description` and `error_uri` are GHES's free text and are never passed
 * on; the `error` code is, only when it is a plain OAuth error code.
 */
import { GatewayError } from '../lib/errors';
import { refusal, type Refusal } from './outcome';

export type OAuthGrant = 'authorization_code' | 'refresh_token';

/** An OAuth error code as RFC 6749 §5.2 and GitHub spell them. */
const ERROR_CODE = /^[a-z_]{1,64}$/;

function extensions(error: string): Record<string, unknown> {
  return ERROR_CODE.test(error) ? { upstream_error: error } : {};
}

/** The refusal an OAuth `error` stands for; nothing was minted, nothing is retried. */
export function oauthRefusal(
  error: string,
  grant: OAuthGrant,
  clientId: string,
  status: number,
): Refusal {
  const options = { extensions: extensions(error), upstreamStatus: status };
  switch (error) {
    case 'incorrect_client_credentials':
    case 'invalid_client':
      return {
        log: 'credentials rejected',
        error: new GatewayError('upstream-credentials-rejected', {
          ...options,
          detail: 'GHES rejected the gateway credentials for this app',
          reason: `GHES answered ${error} for client ${clientId}: check the app's client secret`,
        }),
      };
    case 'bad_verification_code':
      return { error: codeInvalid(options) };
    case 'bad_refresh_token':
      return { error: refreshTokenInvalid(options) };
    // RFC 6749 §5.2's generic code: about whichever grant was presented.
    case 'invalid_grant':
      return {
        error: grant === 'refresh_token' ? refreshTokenInvalid(options) : codeInvalid(options),
      };
    case 'redirect_uri_mismatch':
      return {
        error: new GatewayError('redirect-uri-mismatch', {
          ...options,
          detail:
            'GHES says redirect_uri does not match the callback URL registered for the app or the one the code was issued for',
        }),
      };
    case 'unsupported_grant_type':
      return {
        error: new GatewayError('grant-type-unsupported', {
          ...options,
          detail:
            grant === 'refresh_token'
              ? 'GHES issues no refresh tokens for this app: only GitHub Apps with expiring user tokens have them'
              : 'GHES does not accept the authorization_code grant for this app',
        }),
      };
    default:
      return {
        log: 'unexpected oauth error',
        error: new GatewayError('upstream-error', {
          ...options,
          detail: ERROR_CODE.test(error)
            ? `GHES refused the request (${error})`
            : 'GHES refused the request',
        }),
      };
  }
}

function codeInvalid(options: object): GatewayError {
  return new GatewayError('code-invalid', {
    ...options,
    detail:
      'GHES does not accept this authorization code: it is wrong, expired (codes live 10 minutes), already used, or its code_verifier does not match',
  });
}

function refreshTokenInvalid(options: object): GatewayError {
  return new GatewayError('refresh-token-invalid', {
    ...options,
    detail:
      'GHES does not accept this refresh token: it is wrong, expired, revoked or already used (each works once)',
  });
}

/**
 * A non-2xx from the web host. An OAuth `error` body maps as on a 200; a 404 means the web
 * host is wrong (GHES_WEB_URL), not that a token is unknown; the rest maps as on the API.
 */
export function webRefusal(grant: OAuthGrant) {
  return (
    status: number,
    bodyText: string,
    clientId: string,
    secrets: readonly string[],
    mayHaveApplied: boolean,
  ): Refusal => {
    const error = oauthErrorIn(bodyText);
    if (error !== undefined && status >= 400 && status < 500)
      return oauthRefusal(error, grant, clientId, status);
    if (status === 404)
      return {
        log: 'web endpoint not found',
        error: new GatewayError('upstream-error', {
          detail: 'GHES has no OAuth token endpoint at the configured web host; check GHES_WEB_URL',
          upstreamStatus: 404,
          mayHaveApplied,
        }),
      };
    return refusal(status, bodyText, clientId, secrets, mayHaveApplied);
  };
}

function oauthErrorIn(bodyText: string): string | undefined {
  try {
    const parsed = JSON.parse(bodyText) as { error?: unknown };
    return typeof parsed.error === 'string' && ERROR_CODE.test(parsed.error)
      ? parsed.error
      : undefined;
  } catch {
    return undefined;
  }
}
