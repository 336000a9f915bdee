/**
 * The GHES client the routes use: picks body-style or legacy path-style calls for the configured
 * GHES version and API style, and refuses operations the version or app kind lacks before any
 * call is made.
 */
import type { ApiStyle, AppConfig, GhesVersion } from '../config/types';
import { GatewayError } from '../lib/errors';
import { checkToken } from './check-token';
import { deleteGrant } from './delete-grant';
import { deleteToken } from './delete-token';
import {
  exchangeCode,
  refreshUserToken,
  type ExchangeCodeOptions,
  type OAuthToken,
} from './oauth-access-token';
import type { GhesContext } from './request';
import { resetToken } from './reset-token';
import { scopeToken, type ScopeTokenOptions } from './scope-token';
import type { MintedAuthorization, PublicAuthorization } from './types';
import { hasScopedToken } from '../config/ghes-releases';

export interface GhesClient {
  check(app: AppConfig, token: string): Promise<PublicAuthorization>;
  reset(app: AppConfig, token: string): Promise<MintedAuthorization>;
  delete(app: AppConfig, token: string): Promise<void>;
  deleteGrant(app: AppConfig, token: string): Promise<void>;
  scoped(app: AppConfig, options: ScopeTokenOptions): Promise<MintedAuthorization>;
  exchangeCode(app: AppConfig, options: ExchangeCodeOptions): Promise<OAuthToken>;
  refresh(app: AppConfig, refreshToken: string): Promise<OAuthToken>;
}

export interface GhesClientOptions {
  version: GhesVersion;
  style: ApiStyle;
  /** Everything of a GhesContext but the app, which each call names (one client per request). */
  context: Omit<GhesContext, 'app'>;
}

export function createGhesClient(options: GhesClientOptions): GhesClient {
  const { style } = options;
  const ctx = (app: AppConfig): GhesContext => ({ ...options.context, app });
  return {
    check: (app, token) => checkToken(ctx(app), token, style),
    reset: (app, token) => resetToken(ctx(app), token, style),
    delete: (app, token) => deleteToken(ctx(app), token, style),
    deleteGrant: (app, token) => deleteGrant(ctx(app), token, style),
    scoped: async (app, opts) => {
      if (app.kind !== 'github_app') {
        throw new GatewayError('unsupported-operation', {
          detail: `app "${app.name}" is an OAuth app; scoped tokens exist only for GitHub Apps`,
        });
      }
      if (!hasScopedToken(options.version)) {
        throw new GatewayError('unsupported-operation', {
          detail: `GHES ${options.version.label} has no scoped-token endpoint (3.0+)`,
        });
      }
      return scopeToken(ctx(app), opts);
    },
    exchangeCode: (app, opts) => exchangeCode(ctx(app), opts),
    refresh: async (app, refreshToken) => {
      if (app.kind !== 'github_app') {
        throw new GatewayError('grant-type-unsupported', {
          detail: `app "${app.name}" is an OAuth app; refresh tokens exist only for GitHub Apps with expiring user tokens`,
        });
      }
      return refreshUserToken(ctx(app), refreshToken);
    },
  };
}
