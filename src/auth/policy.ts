/**
 * The caller policy (CALLER_POLICY): which apps and operations each caller `sub` may use, and the
 * scoped-token ceilings. Pure functions over the `Caller` set by `callerAuth`.
 *
 * A caller whose `apps` do not name an app gets 403 whether or not the app exists, so the answer
 * cannot enumerate the gateway's apps; only `"*"` callers reach the route's 404 `unknown-app`.
 */
import {
  PERMISSION_LEVELS,
  type CallerPolicyEntry,
  type Operation,
  type PermissionLevel,
} from '../config/types';
import { GatewayError } from '../lib/errors';
import { echoable } from '../lib/secret-shaped';
import { effectiveScopes } from '../introspection/github-scopes';
import type { Caller } from './caller';

/** Whether `entry` allows `operation` on `app`. `"*"` in `apps` means every configured app. */
export function isAllowed(
  entry: Readonly<CallerPolicyEntry>,
  app: string,
  operation: Operation,
): boolean {
  return (
    entry.operations.includes(operation) && (entry.apps.includes('*') || entry.apps.includes(app))
  );
}

/** App names are caller input here; keep the echoed form short. */

/** Throws 403 `forbidden` unless the caller may perform `operation` on `app`. */
export function authorize(caller: Caller, app: string, operation: Operation): void {
  if (isAllowed(caller.policy, app, operation)) return;
  throw new GatewayError('forbidden', {
    detail: `caller "${caller.sub}" may not ${operation} on app "${echoable(app)}"`,
    reason: caller.policy.operations.includes(operation)
      ? 'app not in the caller policy'
      : 'operation not in the caller policy',
  });
}

/**
 * The app a request acts on: the one it names, or else the caller's `default_app` (introspection
 * and forward auth, where gateways often cannot add a parameter). Throws 400 `invalid-request`
 * when neither is present; whether the caller may use it is `authorize`'s question.
 */
export function resolveApp(caller: Caller, requestedApp: string | undefined): string {
  const app =
    requestedApp !== undefined && requestedApp !== '' ? requestedApp : caller.policy.default_app;
  if (app === undefined)
    throw new GatewayError('invalid-request', {
      detail: `no app named, and caller "${caller.sub}" has no default app`,
      reason: 'request names no app and the caller policy has no default_app',
    });
  return app;
}

/** The body fields of a scoped-token request that a ceiling constrains. */
export interface ScopedTokenRequest {
  target?: string | undefined;
  target_id?: number | undefined;
  repositories?: readonly string[] | undefined;
  repository_ids?: readonly number[] | undefined;
  permissions?: Readonly<Record<string, string>> | undefined;
}

export interface CeilingViolation {
  /** Request field, as in `validation-failed` answers: `body.permissions.contents`. */
  field: string;
  message: string;
}

const LEVEL_RANK: Readonly<Record<PermissionLevel, number>> = { read: 1, write: 2, admin: 3 };

function isLevel(value: unknown): value is PermissionLevel {
  return typeof value === 'string' && (PERMISSION_LEVELS as readonly string[]).includes(value);
}

/** Every way `request` goes above `ceiling`; empty when it stays within. Pure. */
export function scopedCeilingViolations(
  entry: Readonly<CallerPolicyEntry>,
  request: ScopedTokenRequest,
): CeilingViolation[] {
  const ceiling = entry.scoped;
  if (ceiling === undefined) return [];
  const out: CeilingViolation[] = [];
  const add = (field: string, message: string) => out.push({ field: `body.${field}`, message });

  // Permissions. GHES mints a scoped token without `permissions` with every permission the
  // installation has, so a caller with a permission ceiling must always name what it wants.
  if (ceiling.permissions !== undefined) {
    const max = ceiling.permissions;
    const requested = request.permissions ?? {};
    const names = Object.keys(requested);
    if (names.length === 0)
      add(
        'permissions',
        "must be listed: without them GHES grants every permission of the installation, above this caller's ceiling",
      );
    for (const name of names) {
      const level = requested[name];
      const cap = Object.hasOwn(max, name) ? max[name] : undefined;
      if (cap === undefined)
        add(`permissions.${name}`, 'is not a permission this caller may request');
      else if (!isLevel(level) || LEVEL_RANK[level] > LEVEL_RANK[cap])
        add(
          `permissions.${name}`,
          `"${echoable(String(level))}" is above this caller's ceiling "${cap}"`,
        );
    }
  }

  // Target. Logins are case-insensitive on GitHub; an id can only be checked against ids, since
  // mapping it to a login would take a GHES call.
  if (ceiling.targets !== undefined || ceiling.target_ids !== undefined) {
    const { target, target_id: targetId } = request;
    if (target === undefined && targetId === undefined)
      add('target', "is required by this caller's ceiling");
    if (target !== undefined) {
      const wanted = target.toLowerCase();
      if (ceiling.targets === undefined)
        add('target', 'this caller may name its target only by target_id');
      else if (!ceiling.targets.some((t) => t.toLowerCase() === wanted))
        add('target', `"${echoable(target)}" is not a target this caller may scope tokens to`);
    }
    if (targetId !== undefined) {
      if (ceiling.target_ids === undefined)
        add('target_id', 'this caller may name its target only by login (target)');
      else if (!ceiling.target_ids.includes(targetId))
        add('target_id', `${targetId} is not a target id this caller may scope tokens to`);
    }
  }

  // Repositories. Without `repositories`/`repository_ids` GHES scopes the token to every
  // repository of the target the installation reaches. An empty list is counted the same way:
  // it names nothing the ceiling could check.
  const named = (request.repositories?.length ?? 0) + (request.repository_ids?.length ?? 0);
  if (ceiling.repositories !== undefined) {
    const allowed = new Set(ceiling.repositories.map((r) => r.toLowerCase()));
    if (request.repository_ids !== undefined)
      add(
        'repository_ids',
        'this caller must name repositories by name (repositories): ids cannot be checked against its ceiling',
      );
    else if (named === 0)
      add(
        'repositories',
        "must name at least one repository: this caller's tokens are limited to some",
      );
    for (const repo of request.repositories ?? []) {
      if (!allowed.has(repo.toLowerCase()))
        add(
          'repositories',
          `"${echoable(repo)}" is not a repository this caller may scope tokens to`,
        );
    }
  } else if (ceiling.require_repositories === true && named === 0) {
    add('repositories', 'must name at least one repository (repositories or repository_ids)');
  }
  return out;
}

/**
 * Throws 403 `forbidden` when a scoped-token request goes above the caller's ceiling (`scoped` in
 * its policy entry); call it before any GHES call. `detail` names the first offending field, the
 * `errors` extension lists them all.
 */
export function checkScopedCeiling(
  entry: Readonly<CallerPolicyEntry>,
  request: ScopedTokenRequest,
): void {
  const violations = scopedCeilingViolations(entry, request);
  const first = violations[0];
  if (first === undefined) return;
  throw new GatewayError('forbidden', {
    detail: `${first.field} ${first.message}`,
    reason: `scoped-token request above the caller ceiling: ${violations.map((v) => v.field).join(', ')}`,
    extensions: { errors: violations },
  });
}

/**
 * Throws 403 `forbidden` unless a code exchange names one of the caller's `redirect_uris`
 * (exact string match; call it before any GHES call). A caller with `code_exchange` always has
 * a list (src/config/parse.ts), and a request that names none is refused too: GHES would then
 * exchange a code issued for any redirect URI of the app, another service's included.
 */
export function checkRedirectUri(
  caller: Pick<Caller, 'sub' | 'policy'>,
  redirectUri: string | undefined,
): void {
  const allowed = caller.policy.redirect_uris ?? [];
  if (redirectUri !== undefined && allowed.includes(redirectUri)) return;
  throw new GatewayError('forbidden', {
    detail:
      redirectUri === undefined
        ? `body.redirect_uri is required: caller "${caller.sub}" may exchange codes only for its own redirect URIs`
        : `body.redirect_uri is not one of the redirect URIs caller "${caller.sub}" may exchange codes for`,
    reason:
      redirectUri === undefined ? 'code exchange without redirect_uri' : 'redirect_uri not allowed',
  });
}

/**
 * Throws 403 `forbidden` when an Authorizations API request asks for an OAuth scope above the
 * caller's `authorization_scopes` ceiling (a child of a listed scope is within it: `repo` covers
 * `public_repo`, src/introspection/github-scopes.ts). Call it before any GHES call.
 */
export function checkAuthorizationScopes(
  entry: Readonly<CallerPolicyEntry>,
  field: string,
  requested: readonly string[] | null | undefined,
): void {
  const ceiling = entry.authorization_scopes;
  if (ceiling === undefined || requested === undefined || requested === null) return;
  const allowed = effectiveScopes(ceiling);
  const above = requested.filter((s) => !allowed.has(s));
  if (above.length === 0) return;
  const errors = above.map((s) => ({
    field: `body.${field}`,
    message: `"${echoable(s)}" is above this caller's scope ceiling`,
  }));
  throw new GatewayError('forbidden', {
    detail: `body.${field} asks for scopes above this caller's ceiling: ${above.map((s) => echoable(s)).join(', ')}`,
    reason: `authorization scopes above the caller ceiling (${field})`,
    extensions: { errors },
  });
}
