/**
 * The Authorizations service: the OAuth Authorizations API narrowed to one app, acting as a GHES
 * user. Its rules, written once here:
 *
 * - An object of another app does not exist for this app: whatever GHES answers about it, the
 *   caller gets 404 `authorization-not-found`, and nothing is changed (a GET comes before every
 *   PATCH and DELETE, so the gateway checks `app.client_id` before acting).
 * - Deleting an authorization or a grant, or changing an authorization's scopes, moves the
 *   user's grant epoch for the app (TokenCache.invalidateGrant): every cached check of that
 *   user's tokens for the app re-checks at GHES at once. As for the token service
 *   (src/tokens/outcome.ts), this also happens when the mutation failed but GHES may have
 *   carried it out, or says the object is gone.
 *
 * Trust boundary: user credentials pass through to the GHES client only; nothing here logs,
 * caches or stores them. Tokens appear only in what `create` and `getOrCreate` return.
 */
import type { TokenCache } from '../cache/token-cache';
import type { AppConfig } from '../config/types';
import { GatewayError, isGatewayError } from '../lib/errors';
import type { AuthorizationsClient } from '../ghes/authorizations/client';
import type { NewAuthorizationFields } from '../ghes/authorizations/create-authorization';
import type {
  GetOrCreateFields,
  GetOrCreateResult,
} from '../ghes/authorizations/get-or-create-authorization';
import type { Page, PageRequest } from '../ghes/authorizations/page';
import type { Grant } from '../ghes/authorizations/types';
import type { AuthorizationUpdate } from '../ghes/authorizations/update-authorization';
import type { UserCredentials } from '../ghes/authorizations/user-call';
import type { MintedAuthorization, PublicAuthorization } from '../ghes/types';
import { mayHaveApplied } from './outcome';
import { timeInto, type TokenAudit } from './service';

/** One request's view: its id and its audit record. */
export interface AuthorizationsRequest {
  requestId: string;
  audit: TokenAudit;
}

export interface AuthorizationsServiceDeps {
  cache: Pick<TokenCache, 'invalidateGrant'>;
  /** The Authorizations API client for one request (its id in the GHES client's logs). */
  ghesFor: (requestId: string, onCall: (ms: number) => void) => AuthorizationsClient;
}

type Owned = { app: { client_id: string }; user?: { id: number } | null };

function notFound(): GatewayError {
  return new GatewayError('authorization-not-found', {
    detail: 'GHES has no such authorization or grant for this user and app',
    reason: 'the object belongs to another app',
  });
}

/** Whether a changed authorization's scopes may have narrowed. */
function touchesScopes(update: AuthorizationUpdate): boolean {
  return update.scopes !== undefined || update.remove_scopes !== undefined;
}

export class AuthorizationsService {
  readonly #cache: AuthorizationsServiceDeps['cache'];
  readonly #ghesFor: AuthorizationsServiceDeps['ghesFor'];

  constructor(deps: AuthorizationsServiceDeps) {
    this.#cache = deps.cache;
    this.#ghesFor = deps.ghesFor;
  }

  #client(req: AuthorizationsRequest): AuthorizationsClient {
    return this.#ghesFor(req.requestId, timeInto(req.audit, 'ghes_ms'));
  }

  /** One page of the user's authorizations for the app; another app's items are dropped. */
  async list(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    page: PageRequest,
  ): Promise<Page<PublicAuthorization>> {
    const found = await this.#client(req).list(app, user, page);
    req.audit.ghes_status = 200;
    return { ...found, items: found.items.filter((a) => a.app.client_id === app.clientId) };
  }

  async get(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    id: number,
  ): Promise<PublicAuthorization> {
    const found = await this.#client(req).get(app, user, id);
    req.audit.ghes_status = 200;
    return this.#ownedBy(app, found);
  }

  async create(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    fields: NewAuthorizationFields,
  ): Promise<MintedAuthorization> {
    const created = await this.#client(req).create(app, user, fields);
    req.audit.ghes_status = 201;
    return created;
  }

  async getOrCreate(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    fields: GetOrCreateFields,
  ): Promise<GetOrCreateResult> {
    const result = await this.#client(req).getOrCreate(app, user, fields);
    req.audit.ghes_status = result.created ? 201 : 200;
    return result;
  }

  /** PATCH after a GET that proves the authorization is this app's. */
  async update(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    id: number,
    update: AuthorizationUpdate,
  ): Promise<PublicAuthorization> {
    const ghes = this.#client(req);
    const current = this.#ownedBy(app, await ghes.get(app, user, id));
    const call = () => ghes.update(app, user, id, update);
    const updated = touchesScopes(update)
      ? await this.#revoking(req, app, user, current, call)
      : await call();
    req.audit.ghes_status = 200;
    return updated;
  }

  /** DELETE after a GET that proves the authorization is this app's; revokes its token. */
  async delete(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    id: number,
  ): Promise<void> {
    const ghes = this.#client(req);
    const current = this.#ownedBy(app, await ghes.get(app, user, id));
    await this.#revoking(req, app, user, current, () => ghes.delete(app, user, id));
    req.audit.ghes_status = 204;
  }

  /** The user's grants for the app; another app's items are dropped. */
  async listGrants(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    page: PageRequest,
  ): Promise<Page<Grant>> {
    const found = await this.#client(req).listGrants(app, user, page);
    req.audit.ghes_status = 200;
    return { ...found, items: found.items.filter((g) => g.app.client_id === app.clientId) };
  }

  /** DELETE after a GET that proves the grant is this app's; revokes every token of it. */
  async deleteGrant(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    id: number,
  ): Promise<void> {
    const ghes = this.#client(req);
    const current = this.#ownedBy(app, await ghes.getGrant(app, user, id));
    await this.#revoking(req, app, user, current, () => ghes.deleteGrant(app, user, id));
    req.audit.ghes_status = 204;
  }

  #ownedBy<T extends Owned>(app: AppConfig, found: T): T {
    if (found.app.client_id !== app.clientId) throw notFound();
    return found;
  }

  /**
   * Runs a call that may revoke or narrow the user's tokens, then moves the user's grant epoch:
   * after success, and after a failure GHES may have carried out or that says the object is gone.
   */
  async #revoking<T>(
    req: AuthorizationsRequest,
    app: AppConfig,
    user: UserCredentials,
    current: Owned,
    call: () => Promise<T>,
  ): Promise<T> {
    // GitHub's answers name no user: GET /user, asked BEFORE the change, so that failing to learn
    // whose cached checks to end changes nothing at GHES (after it, a deleted token would stay
    // cached active while the caller is told the call failed).
    const userId = current.user?.id ?? (await this.#client(req).userId(app, user));
    const invalidate = () => this.#cache.invalidateGrant(app, userId);
    let result: T;
    try {
      result = await call();
    } catch (e) {
      const gone = isGatewayError(e) && e.code === 'authorization-not-found';
      if (mayHaveApplied(e) || gone) await invalidate().catch(() => undefined);
      throw e;
    }
    await invalidate();
    return result;
  }
}
