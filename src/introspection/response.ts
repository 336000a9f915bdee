/**
 * The RFC 7662 §2.2 answer for a token check, as a pure function of what the cache returned and
 * the time. Introspection answers it as JSON, RFC 9701 wraps it in a signed JWT, and forward auth
 * reads the same facts.
 *
 * Trust boundary: the input is GHES's authorization without `token` and `hashed_token`
 * (src/ghes/types.ts). Only the fields listed here leave the gateway; a field GHES adds later is
 * not passed on until someone decides it is safe.
 */
import type { CheckResult } from '../cache/entry';
import type { PublicAuthorization } from '../ghes/types';

/** GitHub-specific, non-secret extras under one member so they cannot clash with RFC 7662 names. */
export interface GitHubExtras {
  /** GHES's own last-eight, so operators can match a token without seeing it. */
  token_last_eight: string | null;
  /** The configured app (the name callers use), not GHES's display name. */
  app: string;
  /** Present for scoped GitHub-App user tokens only (GHES returns it then). */
  installation?: {
    permissions: Record<string, string>;
    repository_selection: 'all' | 'selected';
    account: string;
  };
}

export interface ActiveIntrospection {
  active: true;
  /** RFC 7662 §2.2: space-separated; omitted when the token has no scopes (GitHub-App tokens). */
  scope?: string;
  client_id: string;
  username?: string;
  sub?: string;
  token_type: 'bearer';
  exp?: number;
  iat?: number;
  github: GitHubExtras;
}

export interface InactiveIntrospection {
  active: false;
}

export type IntrospectionResponse = ActiveIntrospection | InactiveIntrospection;

/**
 * RFC 7662 §2.2: an inactive token gets `active: false` and nothing else, so that the answer says
 * nothing about why (unknown, expired, revoked, another app's token).
 */
export const INACTIVE: InactiveIntrospection = Object.freeze({ active: false as const });

/** Epoch seconds of an ISO 8601 timestamp, or undefined when it does not parse. */
export function epochSeconds(iso: string | null | undefined): number | undefined {
  if (iso === null || iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/**
 * Whether the authorization is usable at `nowMs`. GHES answers 404 for an expired token, but a
 * cached answer can outlive `expires_at` by a moment, and an `expires_at` we cannot read must not
 * be taken for "never expires" (fail closed).
 */
export function isLive(authorization: PublicAuthorization, nowMs: number): boolean {
  return liveAt(expiryMs(authorization), nowMs);
}

/** `expires_at` in ms (NaN when it does not parse); undefined when the token never expires. */
function expiryMs(authorization: PublicAuthorization): number | undefined {
  const raw = authorization.expires_at;
  return raw === null || raw === undefined ? undefined : Date.parse(raw);
}

function liveAt(expMs: number | undefined, nowMs: number): boolean {
  return expMs === undefined || (Number.isFinite(expMs) && nowMs < expMs);
}

/** Scope tokens as RFC 6749 §3.3 allows them; anything else GHES might send is dropped. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function scopesOf(authorization: PublicAuthorization): string[] {
  return (authorization.scopes ?? []).filter((s) => SCOPE_TOKEN.test(s));
}

export function toIntrospectionResponse(
  result: CheckResult,
  appName: string,
  nowMs: number,
): IntrospectionResponse {
  if (!result.active || !isLive(result.authorization, nowMs)) return INACTIVE;
  return activeAnswer(result.authorization, appName);
}

/** The answer for a live token, whatever the time. */
function activeAnswer(a: PublicAuthorization, appName: string): ActiveIntrospection {
  const github: GitHubExtras = { token_last_eight: a.token_last_eight, app: appName };
  if (a.installation !== null && a.installation !== undefined) {
    github.installation = {
      permissions: { ...a.installation.permissions },
      repository_selection: a.installation.repository_selection,
      account: a.installation.account.login,
    };
  }
  const scopes = scopesOf(a);
  const exp = epochSeconds(a.expires_at);
  const iat = epochSeconds(a.created_at);
  const user = a.user ?? undefined;
  // Built in RFC 7662 §2.2's order so the JSON reads like the RFC's examples.
  return {
    active: true,
    // RFC 6749 §3.3 has no empty scope value: a token without scopes simply has no `scope`.
    ...(scopes.length > 0 && { scope: scopes.join(' ') }),
    client_id: a.app.client_id,
    ...(user !== undefined && { username: user.login, sub: String(user.id) }),
    token_type: 'bearer',
    ...(exp !== undefined && { exp }),
    ...(iat !== undefined && { iat }),
    github,
  };
}

/** An answer and its JSON, as sent. */
export interface IntrospectionAnswer {
  answer: IntrospectionResponse;
  json: string;
}

export const INACTIVE_ANSWER: IntrospectionAnswer = Object.freeze({
  answer: INACTIVE,
  json: JSON.stringify(INACTIVE),
});

interface Memo extends IntrospectionAnswer {
  app: string;
  /** What `isLive` tests, read once (`expiryMs`). */
  expiryMs: number | undefined;
}

/**
 * Answers built and serialised once per cached check result: an L1 hit hands back the very
 * `CheckResult` object it stored, so the answer of a token checked again is a map lookup plus the
 * expiry test (`isLive`'s, the one part that depends on `now`). Keyed weakly: an entry evicted from
 * L1 takes its memo with it.
 */
const memo = new WeakMap<CheckResult, Memo>();

/** `toIntrospectionResponse` and its JSON, memoised per result and app. */
export function introspectionAnswer(
  result: CheckResult,
  appName: string,
  nowMs: number,
): IntrospectionAnswer {
  if (!result.active) return INACTIVE_ANSWER;
  let m = memo.get(result);
  if (m === undefined || m.app !== appName) {
    const answer = activeAnswer(result.authorization, appName);
    m = {
      app: appName,
      expiryMs: expiryMs(result.authorization),
      answer,
      json: JSON.stringify(answer),
    };
    memo.set(result, m);
  }
  return liveAt(m.expiryMs, nowMs) ? m : INACTIVE_ANSWER;
}
