/**
 * Public, unauthenticated discovery documents:
 *
 *   GET /.well-known/oauth-authorization-server  RFC 8414 metadata for introspection
 *   GET /.well-known/jwks.json                   RFC 7517 public keys of the RFC 9701 signer
 *
 * Neither says anything about apps, callers or GHES. The key set holds public halves only
 * (src/introspection/signing-keys.ts builds them from an allow-list of public members).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, GatewayDeps } from '../context';
import { JWKS_PATH, METADATA_PATH, authorizationServerMetadata } from '../introspection/metadata';
import { signerFor } from '../introspection/signer';

/**
 * Verifiers and clients cache these; five minutes bounds how long a rotated-in key can go
 * unseen (docs/gateways.md, key rotation).
 */
const DISCOVERY_CACHE_CONTROL = 'public, max-age=300';

const MetadataSchema = z
  .object({
    issuer: z.string(),
    introspection_endpoint: z.string(),
    introspection_endpoint_auth_methods_supported: z.array(z.string()),
    introspection_signing_alg_values_supported: z.array(z.string()).optional(),
    jwks_uri: z.string(),
    response_types_supported: z.array(z.string()),
    grant_types_supported: z.array(z.string()),
  })
  .openapi('AuthorizationServerMetadata', { description: 'RFC 8414 §2' });

const JwksSchema = z
  .object({ keys: z.array(z.record(z.string(), z.unknown())) })
  .openapi('JsonWebKeySet', { description: 'RFC 7517 §5, public keys only' });

const metadataRoute = createRoute({
  method: 'get',
  path: METADATA_PATH,
  summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
  tags: ['introspection'],
  responses: {
    200: {
      description: 'Where to introspect and how answers are signed',
      content: { 'application/json': { schema: MetadataSchema } },
    },
  },
});

const jwksRoute = createRoute({
  method: 'get',
  path: JWKS_PATH,
  summary: 'Public keys that verify RFC 9701 signed introspection answers',
  tags: ['introspection'],
  responses: {
    200: {
      description: 'Every configured signing key, public half only; the first one signs',
      content: { 'application/json': { schema: JwksSchema } },
    },
  },
});

export function registerWellKnownRoutes(app: OpenAPIHono<AppEnv>, deps: GatewayDeps): void {
  const { config } = deps;
  const signer = signerFor(config.introspection);
  const jwks = signer.publicJwks();
  const algorithms = signer.algorithms();

  // Built once from PUBLIC_URL: the document is cached publicly, so it must not follow the Host
  // header of whoever asked first (RFC 8414 §3.3: the issuer must match the configured one).
  const metadata = authorizationServerMetadata(config.publicUrl, algorithms);

  app.openapi(metadataRoute, (c) => {
    c.header('cache-control', DISCOVERY_CACHE_CONTROL);
    return c.json(metadata, 200);
  });

  app.openapi(jwksRoute, (c) => {
    c.header('cache-control', DISCOVERY_CACHE_CONTROL);
    return c.json(jwks, 200);
  });
}
