/**
 * The types every route shares: the app's environment and the dependencies `createApp` hands each
 * route group. Types only; the values are built once per isolate by src/index.ts.
 */
import type { JWTVerifyGetKey } from 'jose';
import type { CallerAuthVariables } from './auth/caller';
import type { DeliveryLog } from './cache/deliveries';
import type { Bindings, GatewayConfig } from './config/types';
import type { Clock } from './lib/clock';
import type { Logger } from './lib/log';
import type { AuditVariables } from './middleware/audit';
import type { AuthorizationsService } from './tokens/authorizations';
import type { TokenService } from './tokens/service';

/** What a route group needs, passed to its `registerXxxRoutes(app, deps)`: the one way in. */
export interface GatewayDeps {
  config: GatewayConfig;
  /** Every clock read and timer runs on this. */
  clock: Clock;
  log: Logger;
  callerKeySet: JWTVerifyGetKey;
  /** Cloudflare Access team certs, when Access is configured as a caller identity source. */
  accessKeySet?: JWTVerifyGetKey | undefined;
  /** Checks and revocations through the cache and GHES (src/tokens/service.ts). */
  tokens: TokenService;
  /** The OAuth Authorizations API, as a GHES user (src/tokens/authorizations.ts). */
  authorizations: AuthorizationsService;
  /** Webhook deliveries already acted on (src/routes/webhooks.ts). */
  deliveries: DeliveryLog;
}

/** Per-request values: who called, the request id, and the audit record being filled in. */
export type AppVariables = CallerAuthVariables & AuditVariables & { requestId: string };

export interface AppEnv {
  Bindings: Bindings;
  Variables: AppVariables;
}
