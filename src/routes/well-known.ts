/**
 * Public, unauthenticated discovery documents:
 *
 *   GET /.well-known/oauth-authorization-server  RFC 8414 metadata for introspection
 *   GET /.well-known/jwks.json                   RFC 7517 public keys of the RFC 9701 signer
 *
 * Neither says anything about apps, callers or GHES. The key set holds public halves only
 * (src/introspection/signing-keys.ts builds them from an allow-list of public members).
 */
import * as v from 'valibot';
import type { GatewayDeps } from '../context';
import { JWKS_PATH, METADATA_PATH, authorizationServerMetadata } from '../introspection/metadata';
import { signerFor } from '../introspection/signer';
import { JSON_TYPE, type Api, type RouteSpec } from './api';
import { component } from './schemas';

/**
 * Verifiers and clients cache these; five minutes bounds how long a rotated-in key can go
 * unseen (docs/gateways.md, key rotation).
 */
const DISCOVERY_CACHE_CONTROL = 'public, max-age=300';
const CACHED = { 'cache-control': { description: DISCOVERY_CACHE_CONTROL, required: true } };

const strings = v.array(v.string());
const MetadataSchema = component(
  'AuthorizationServerMetadata',
  v.pipe(
    v.object({
      issuer: v.string(),
      introspection_endpoint: v.string(),
      introspection_endpoint_auth_methods_supported: strings,
      introspection_signing_alg_values_supported: v.optional(strings),
      jwks_uri: v.string(),
      response_types_supported: strings,
      grant_types_supported: strings,
    }),
    v.description('RFC 8414 §2'),
  ),
);

const JwksSchema = component(
  'JsonWebKeySet',
  v.pipe(
    v.object({ keys: v.array(v.record(v.string(), v.unknown())) }),
    v.description('RFC 7517 §5, public keys only'),
  ),
);

const metadataRoute = {
  method: 'get',
  path: METADATA_PATH,
  operationId: 'authorizationServerMetadata',
  summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
  tags: ['introspection'],
  responses: {
    200: {
      description: 'Where to introspect and how answers are signed',
      headers: CACHED,
      content: { [JSON_TYPE]: MetadataSchema },
    },
  },
} satisfies RouteSpec;

const jwksRoute = {
  method: 'get',
  path: JWKS_PATH,
  operationId: 'introspectionSigningKeys',
  summary: 'Public keys that verify RFC 9701 signed introspection answers',
  tags: ['introspection'],
  responses: {
    200: {
      description: 'Every configured signing key, public half only; the first one signs',
      headers: CACHED,
      content: { [JSON_TYPE]: JwksSchema },
    },
  },
} satisfies RouteSpec;

export function registerWellKnownRoutes(api: Api, deps: GatewayDeps): void {
  const { config } = deps;
  const signer = signerFor(config.introspection);
  const jwks = signer.publicJwks();
  const algorithms = signer.algorithms();

  // Built once from PUBLIC_URL: the document is cached publicly, so it must not follow the Host
  // header of whoever asked first (RFC 8414 §3.3: the issuer must match the configured one).
  const metadata = authorizationServerMetadata(config.publicUrl, algorithms);

  api.route(metadataRoute, (c) => {
    c.header('cache-control', DISCOVERY_CACHE_CONTROL);
    return c.json(metadata, 200);
  });

  api.route(jwksRoute, (c) => {
    c.header('cache-control', DISCOVERY_CACHE_CONTROL);
    return c.json(jwks, 200);
  });
}
