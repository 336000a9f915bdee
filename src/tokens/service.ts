/**
 * The token service: what the routes ask about or do to a GitHub token, in one place.
 *
 * - `check`: answer from L1 → KV → GHES (the check endpoint, introspection and forward auth all
 *   answer from the same cache entries).
 * - `reset`, `delete`, `deleteGrant`: call GHES, then invalidate what it may have revoked, before
 *   the answer goes out. The rule, written once (`#revoking` and src/tokens/outcome.ts): whenever
 *   GHES may have carried the mutation out, and whenever GHES says the token does not exist, the
 *   token gets a tombstone (and, for a grant, the user's grant epoch moves) — even when the
 *   answer is an error.
 * - `scoped`: mints a narrower token beside the source token; GHES does not revoke the source,
 *   so the cache is left as it is whatever the outcome.
 * - `exchangeCode`, `refresh`: the OAuth web flow (docs/cache.md, "OAuth web flow"). A refresh
 *   revokes the user's old token, which the gateway never saw: it moves the user's grant epoch.
 *
 * Routes build one `TokenRequest` per request; the service itself holds no per-request state.
 * Trust boundary: tokens pass through to the cache key and the GHES client only; nothing here
 * logs or stores one.
 */
import type { CheckOptions, CheckOutcome, LoadResult, TokenCache } from '../cache/token-cache';
import type { AppConfig } from '../config/types';
import { GatewayError, isGatewayError } from '../lib/errors';
import type { GhesClient } from '../ghes/client';
import type { CredentialHealth } from '../ghes/credential-health';
import type { ExchangeCodeOptions, OAuthToken } from '../ghes/oauth-access-token';
import type { ScopeTokenOptions } from '../ghes/scope-token';
import { toPublicAuthorization, type GhesAuthorization } from '../ghes/types';
import { mustInvalidateAfter } from './outcome';

/** The audit-line fields the service fills in (a subset of the request's audit record). */
export interface TokenAudit {
  ghes_status?: number;
  /** Time spent in GHES calls, retries and waits included (src/ghes/request.ts `onCall`). */
  ghes_ms?: number;
  /** Time the answer waited on KV reads (a miss's bulk read; never on an L1 hit). */
  kv_ms?: number;
  cache_status?: string;
  token_id?: string;
  invalidation?: 'grant_epoch' | 'failed';
}

/** One request's view: its id, its audit record, its `waitUntil`, its hooks. */
export interface TokenRequest {
  /** Names the request in the GHES client's log lines. */
  requestId: string;
  audit: TokenAudit;
  /**
   * The request's GHES client, built on its first GHES call: most requests (every cache hit)
   * never call GHES.
   */
  ghes?: GhesClient;
  /** The request's `ctx.waitUntil`, so cache writes and shared loads outlive the answer. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Runs right before `check` sends a GHES check, never on a cache hit (a budget for GHES-bound
   * misses). It may throw to refuse the call; that error is the check's answer. It runs inside
   * the load other requests for the same token may be waiting on, so they get it too.
   */
  beforeGhes?: () => Promise<void>;
}

export interface TokenServiceDeps {
  cache: TokenCache;
  credentialHealth: CredentialHealth;
  /** A GHES client for one request (src/ghes/client.ts), with that request's id in its logs. */
  ghesFor: (requestId: string, onCall: (ms: number) => void) => GhesClient;
}

function tokenNotFound(cacheStatus?: string): GatewayError {
  return new GatewayError('token-not-found', {
    detail: 'GHES does not know this token for this app (unknown, expired or revoked)',
    ...(cacheStatus !== undefined && { headers: { 'cache-status': cacheStatus } }),
  });
}

/** A user id the grant epoch can be keyed by; GHES's answer is untrusted input. */
function grantUserId(auth: { user?: { id?: unknown } | null } | undefined): number | undefined {
  const id = auth?.user?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

/** A check's cache facts on the request's audit line (`check` and `peek` alike). */
function recorded(audit: TokenAudit, outcome: CheckOutcome): CheckOutcome {
  audit.cache_status = outcome.cacheStatus;
  audit.token_id = outcome.tokenId;
  return outcome;
}

export class TokenService {
  readonly #cache: TokenCache;
  readonly #health: CredentialHealth;
  readonly #ghesFor: TokenServiceDeps['ghesFor'];

  constructor(deps: TokenServiceDeps) {
    this.#cache = deps.cache;
    this.#health = deps.credentialHealth;
    this.#ghesFor = deps.ghesFor;
  }

  #ghes(req: TokenRequest): GhesClient {
    return (req.ghes ??= this.#ghesFor(req.requestId, timeInto(req.audit, 'ghes_ms')));
  }

  /** Checks a token through L1 → KV → GHES; records the cache outcome for the audit line. */
  async check(req: TokenRequest, app: AppConfig, token: string): Promise<CheckOutcome> {
    const opts: CheckOptions = { onKvRead: timeInto(req.audit, 'kv_ms') };
    if (req.waitUntil !== undefined) opts.waitUntil = req.waitUntil;
    return recorded(
      req.audit,
      await this.#cache.check(app, token, () => this.#load(req, app, token), opts),
    );
  }

  /**
   * `check`'s answer when it is an L1 hit on a remembered key, found without a promise; undefined
   * when `check` must run (src/cache/token-cache.ts `peek`). Records the outcome on `audit` as
   * `check` does, but counts no hit: `answeredFromL1` does, once the hit is the request's answer
   * (a request that falls back to `check` is counted there).
   */
  peek(audit: TokenAudit, app: AppConfig, token: string): CheckOutcome | undefined {
    const outcome = this.#cache.peek(app, token);
    return outcome === undefined ? undefined : recorded(audit, outcome);
  }

  answeredFromL1(): void {
    this.#cache.countL1Hit();
  }

  /** GHES mints a new token and the old one stops working. */
  async reset(req: TokenRequest, app: AppConfig, token: string): Promise<GhesAuthorization> {
    req.audit.token_id = await this.#cache.tokenId(app, token);
    const fresh = await this.#revoking(
      () => this.#ghes(req).reset(app, token),
      () => this.#cache.invalidateToken(app, token),
    );
    req.audit.ghes_status = 200;
    return fresh;
  }

  /** Revokes one token. */
  async delete(req: TokenRequest, app: AppConfig, token: string): Promise<void> {
    req.audit.token_id = await this.#cache.tokenId(app, token);
    await this.#revoking(
      () => this.#ghes(req).delete(app, token),
      () => this.#cache.invalidateToken(app, token),
    );
    req.audit.ghes_status = 204;
  }

  /** Revokes the user's grant for the app: every token of that user for that app. */
  async deleteGrant(req: TokenRequest, app: AppConfig, token: string): Promise<void> {
    // Dropping every cached token of the grant needs the user id, which only a check gives.
    const userId = await this.#grantUser(req, app, token);
    await this.#revoking(
      () => this.#ghes(req).deleteGrant(app, token),
      async () => {
        if (userId !== undefined) await this.#cache.invalidateGrant(app, userId);
        await this.#cache.invalidateToken(app, token);
      },
    );
    req.audit.ghes_status = 204;
  }

  /**
   * GHES revoked these users' grants for the app itself (a signed webhook, src/routes/webhooks.ts):
   * their grant epochs move, so every cached check of their tokens for the app re-checks.
   * False when an epoch could not be written to KV: only this isolate knows.
   */
  async grantsRevokedInGhes(app: AppConfig, userIds: readonly number[]): Promise<boolean> {
    let replicated = true;
    for (const userId of userIds)
      if (!(await this.#cache.invalidateGrant(app, userId))) replicated = false;
    return replicated;
  }

  /** A narrower token beside the source one; the source stays valid, so nothing is invalidated. */
  async scoped(
    req: TokenRequest,
    app: AppConfig,
    options: ScopeTokenOptions,
  ): Promise<GhesAuthorization> {
    req.audit.token_id = await this.#cache.tokenId(app, options.access_token);
    const scoped = await this.#ghes(req).scoped(app, options);
    req.audit.ghes_status = 200;
    return scoped;
  }

  /** The web flow's code exchange: a new user token; nothing the cache holds changes. */
  async exchangeCode(
    req: TokenRequest,
    app: AppConfig,
    options: ExchangeCodeOptions,
  ): Promise<OAuthToken> {
    const answer = await this.#ghes(req).exchangeCode(app, options);
    req.audit.ghes_status = 200;
    return answer;
  }

  /**
   * A GitHub App's refresh: GHES mints a new user token and refresh token, and the old user
   * token stops working (GitHub, "Refreshing user access tokens"). The gateway only has the
   * refresh token, so it learns the user from one check of the new token and moves the user's
   * grant epoch: every cached answer about that user's tokens of this app is then re-checked,
   * and the old one answers 404. The new token goes back whatever that costs or however it ends.
   */
  async refresh(req: TokenRequest, app: AppConfig, refreshToken: string): Promise<OAuthToken> {
    const answer = await this.#ghes(req).refresh(app, refreshToken);
    req.audit.ghes_status = 200;
    try {
      const userId = grantUserId(await this.#ghes(req).check(app, answer.access_token));
      if (userId === undefined) throw new TypeError('no user in the check answer');
      await this.#cache.invalidateGrant(app, userId);
      req.audit.invalidation = 'grant_epoch';
    } catch {
      // Residual window: the old token's cached "active" lives out its TTL (docs/cache.md).
      req.audit.invalidation = 'failed';
    }
    return answer;
  }

  /**
   * Runs a GHES call that may revoke, then invalidates — after success, and after any failure
   * for which `mustInvalidateAfter` says GHES may have revoked it or says the token is gone.
   */
  async #revoking<T>(call: () => Promise<T>, invalidate: () => Promise<void>): Promise<T> {
    let result: T;
    try {
      result = await call();
    } catch (e) {
      if (mustInvalidateAfter(e)) await invalidate();
      throw e;
    }
    await invalidate();
    return result;
  }

  /** The cache's loader: one GHES check. Only GHES's definitive 404 is an answer about the token. */
  async #load(req: TokenRequest, app: AppConfig, token: string): Promise<LoadResult> {
    await req.beforeGhes?.();
    try {
      const authorization = await this.#ghes(req).check(app, token);
      req.audit.ghes_status = 200;
      this.#health.onPositive(app.name);
      return { found: true, authorization: toPublicAuthorization(authorization) };
    } catch (e) {
      // Everything but a 404 is a failure the cache must not remember.
      if (isGatewayError(e) && e.code === 'token-not-found') {
        req.audit.ghes_status = 404;
        this.#health.onNotFound(app.name);
        return { found: false };
      }
      throw e;
    }
  }

  /**
   * The user whose grant is being revoked. An inactive answer from the cache is not trusted:
   * after an unclear revocation the cache holds a tombstone for a token that may still live at
   * GHES, and the grant must still go. So only GHES's own 404 ends the request here.
   */
  async #grantUser(req: TokenRequest, app: AppConfig, token: string): Promise<number | undefined> {
    const checked = await this.check(req, app, token);
    if (checked.result.active) return grantUserId(checked.result.authorization);
    if (checked.source === 'ghes' || checked.source === 'coalesced')
      throw tokenNotFound(checked.cacheStatus);
    return grantUserId(await this.#ghes(req).check(app, token));
  }
}

/** Adds each duration (ms) to the audit record's `field`: its GHES calls, its KV reads. */
export function timeInto(audit: TokenAudit, field: 'ghes_ms' | 'kv_ms'): (ms: number) => void {
  return (ms) => {
    audit[field] = (audit[field] ?? 0) + ms;
  };
}
