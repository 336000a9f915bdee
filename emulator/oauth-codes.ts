/**
 * What the web flow keeps between requests: authorization codes (what GHES hands the browser
 * after the user authorizes; "The temporary code will expire after 10 minutes", GitHub's
 * "Authorizing OAuth apps") and refresh tokens of expiring GitHub-App user tokens ("Once you use
 * a refresh token, that refresh token and the old user access token will no longer work",
 * GitHub's "Refreshing user access tokens"; refresh tokens last 6 months).
 */

export const CODE_LIFETIME_MS = 10 * 60 * 1000;
/** GitHub's documented values of `expires_in` and `refresh_token_expires_in`. */
export const ACCESS_TOKEN_EXPIRES_IN = 28_800;
export const REFRESH_TOKEN_EXPIRES_IN = 15_897_600;

export interface PendingCode {
  readonly clientId: string;
  readonly userId: number;
  readonly scopes: readonly string[];
  /** The redirect_uri of the authorization request, when it named one. */
  readonly redirectUri: string | null;
  /** S256 code challenge, kept only where the release (or config) has PKCE. */
  readonly codeChallenge: string | null;
  readonly expiresAt: number;
}

export interface RefreshGrant {
  readonly clientId: string;
  /** The token record (authorization) the refresh token renews. */
  readonly authorizationId: number;
  readonly expiresAt: number;
}

export class OAuthBook {
  readonly codes = new Map<string, PendingCode>();
  readonly refreshTokens = new Map<string, RefreshGrant>();

  /** The live code, or undefined (unknown, used or expired); the code stays until taken. */
  code(value: string, now: number): PendingCode | undefined {
    const pending = this.codes.get(value);
    if (!pending) return undefined;
    if (pending.expiresAt <= now) {
      this.codes.delete(value);
      return undefined;
    }
    return pending;
  }

  /** The live refresh grant, or undefined. */
  refresh(value: string, now: number): RefreshGrant | undefined {
    const grant = this.refreshTokens.get(value);
    if (!grant) return undefined;
    if (grant.expiresAt <= now) {
      this.refreshTokens.delete(value);
      return undefined;
    }
    return grant;
  }

  clear(): void {
    this.codes.clear();
    this.refreshTokens.clear();
  }
}

/** BASE64URL(SHA-256(verifier)) compared with the stored challenge (RFC 7636 §4.6). */
export async function s256Matches(verifier: string, challenge: string): Promise<boolean> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  let binary = '';
  for (const b of new Uint8Array(digest)) binary += String.fromCharCode(b);
  const encoded = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return encoded === challenge;
}
