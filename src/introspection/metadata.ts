/**
 * RFC 8414 authorization server metadata for the parts of OAuth this gateway implements: token
 * introspection (RFC 7662) and its signed answers (RFC 9701). Pure.
 */

export const INTROSPECTION_PATH = '/introspect';
export const JWKS_PATH = '/.well-known/jwks.json';
export const METADATA_PATH = '/.well-known/oauth-authorization-server';

export interface AuthorizationServerMetadata {
  issuer: string;
  introspection_endpoint: string;
  /**
   * RFC 8414 §2 draws these values from the token endpoint authentication methods registry *or*
   * the OAuth access token types registry. Callers present a caller JWT as a bearer token
   * (RFC 7662 §2.1 allows "a separate OAuth 2.0 access token"), so the honest value is the
   * access token type "Bearer" (RFC 6750). No client secret method is accepted.
   */
  introspection_endpoint_auth_methods_supported: ['Bearer'];
  /** RFC 9701 §7; present only when signed answers are configured. */
  introspection_signing_alg_values_supported?: string[];
  jwks_uri: string;
  /**
   * REQUIRED by RFC 8414 §2. This server issues no tokens and has no authorization endpoint, so
   * the list is empty, which is the truth rather than an omission.
   */
  response_types_supported: [];
  grant_types_supported: [];
}

/**
 * `issuer` is PUBLIC_URL (src/config/urls.ts: https, or http on loopback, no query or fragment, no
 * trailing slash), never the origin a request came to: the Host header is the client's to choose.
 */
export function authorizationServerMetadata(
  issuer: string,
  signingAlgorithms: readonly string[],
): AuthorizationServerMetadata {
  return {
    issuer,
    introspection_endpoint: `${issuer}${INTROSPECTION_PATH}`,
    introspection_endpoint_auth_methods_supported: ['Bearer'],
    ...(signingAlgorithms.length > 0 && {
      introspection_signing_alg_values_supported: [...signingAlgorithms],
    }),
    jwks_uri: `${issuer}${JWKS_PATH}`,
    response_types_supported: [],
    grant_types_supported: [],
  };
}
