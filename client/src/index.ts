/**
 * @ghes-token-gateway/client: a typed client for the gateway's internal API (client/README.md).
 */
export {
  createGatewayClient,
  unwrap,
  type AnswerOf,
  type CallOptions,
  type ForwardAuthAllowed,
  type GatewayClient,
  type GatewayClientOptions,
  type Introspection,
  type IntrospectionRequest,
  type OAuthToken,
  type ScopedRequest,
  type ScopedToken,
  type TokenCheck,
  type TokenReset,
} from './client.js';
export { callerJwtHeader, callerJwtMiddleware, type CallerJwt } from './auth.js';
export {
  GatewayProblem,
  GatewayTransportError,
  type ProblemBody,
  type ProblemCode,
  type TransportFailure,
} from './errors.js';
export type { components, paths } from './schema.gen.js';
