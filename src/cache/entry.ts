/**
 * What a cache entry is, in memory (L1) and as a Workers KV value (L2), and the conversion
 * between the two. See docs/cache.md for the storage schema.
 *
 * Times are integer epoch milliseconds in memory. In KV they are epoch seconds with millisecond
 * precision (`1767225660.123`), so the stored value reads like every other epoch-seconds field
 * while the maths stays exact.
 *
 * Trust boundary: values read back from KV are validated here before use. KV is our own storage,
 * but a value may be corrupt, truncated or written by another version of the gateway; such a
 * value is a miss, never a crash and never an answer.
 */
import type { PublicAuthorization } from '../ghes/types';
import { err, ok, type Result } from '../lib/result';

export const VALUE_VERSION = 1;

export type EntryKind = 'positive' | 'negative' | 'revoked';

export type CheckResult = { active: true; authorization: PublicAuthorization } | { active: false };

export const INACTIVE: CheckResult = Object.freeze({ active: false as const });

interface EntryTimes {
  /** When the GHES answer was asked for (not received): the conservative side for invalidation. */
  storedAtMs: number;
  /** Served as an answer only while `now < freshUntilMs`. */
  freshUntilMs: number;
  /** Until when stale-if-error may still serve it; equals `freshUntilMs` when that is off. */
  staleUntilMs: number;
}

export interface PositiveEntry extends EntryTimes {
  kind: 'positive';
  userId: number | null;
  /** `client_id:user_id` for the grant-epoch check, or null when the token has no user. */
  scope: string | null;
  /** Frozen and shared by every answer served from this entry. */
  result: { active: true; authorization: PublicAuthorization };
}

export interface NegativeEntry extends EntryTimes {
  kind: 'negative' | 'revoked';
  result: CheckResult;
}

export type CacheEntry = PositiveEntry | NegativeEntry;

/** The JSON stored in KV. Never holds `token` or `hashed_token`. */
export type StoredValue =
  | {
      v: 1;
      kind: 'positive';
      auth: PublicAuthorization;
      user_id: number | null;
      fresh_until: number;
      stored_at: number;
    }
  | { v: 1; kind: 'negative' | 'revoked'; fresh_until: number; stored_at: number };

const SECRET_FIELDS = ['token', 'hashed_token'] as const;

/**
 * Copy an authorization without its secret fields. `PublicAuthorization` already omits them in
 * the type, but TypeScript lets a `GhesAuthorization` pass where a `PublicAuthorization` is
 * expected, so the guarantee is enforced at run time too.
 */
export function withoutSecrets(auth: PublicAuthorization): PublicAuthorization {
  const record = auth as PublicAuthorization &
    Partial<Record<(typeof SECRET_FIELDS)[number], unknown>>;
  if (!(SECRET_FIELDS[0] in record) && !(SECRET_FIELDS[1] in record)) return auth;
  const copy: Record<string, unknown> = { ...record };
  for (const field of SECRET_FIELDS) delete copy[field];
  return copy as unknown as PublicAuthorization;
}

/** Deep-freeze so that a caller mutating an answer cannot corrupt the shared cached copy. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

export function positiveResult(auth: PublicAuthorization): {
  active: true;
  authorization: PublicAuthorization;
} {
  return Object.freeze({ active: true as const, authorization: deepFreeze(auth) });
}

export function encodeValue(entry: CacheEntry): string {
  const value: StoredValue =
    entry.kind === 'positive'
      ? {
          v: VALUE_VERSION,
          kind: 'positive',
          auth: withoutSecrets(entry.result.authorization),
          user_id: entry.userId,
          fresh_until: entry.freshUntilMs / 1000,
          stored_at: entry.storedAtMs / 1000,
        }
      : {
          v: VALUE_VERSION,
          kind: entry.kind,
          fresh_until: entry.freshUntilMs / 1000,
          stored_at: entry.storedAtMs / 1000,
        };
  return JSON.stringify(value);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEpochS(v: unknown): v is number {
  // Between 2001 and 2286: anything else is not a timestamp this code wrote.
  return typeof v === 'number' && Number.isFinite(v) && v > 1e9 && v < 1e10;
}

function isNullableString(v: unknown): boolean {
  return v === null || typeof v === 'string';
}

/** Why `auth` is not a plausible stored PublicAuthorization, or undefined when it is. */
function authProblem(auth: unknown): string | undefined {
  if (!isRecord(auth)) return 'auth is not an object';
  for (const field of SECRET_FIELDS) if (field in auth) return `auth holds ${field}`;
  if (typeof auth['id'] !== 'number') return 'auth.id';
  if (typeof auth['url'] !== 'string') return 'auth.url';
  const scopes = auth['scopes'];
  if (scopes !== null && !(Array.isArray(scopes) && scopes.every((s) => typeof s === 'string')))
    return 'auth.scopes';
  const app = auth['app'];
  if (!isRecord(app) || typeof app['client_id'] !== 'string') return 'auth.app';
  if (typeof auth['created_at'] !== 'string' || typeof auth['updated_at'] !== 'string')
    return 'auth timestamps';
  for (const f of ['token_last_eight', 'note', 'note_url', 'fingerprint'])
    if (f in auth && !isNullableString(auth[f])) return `auth.${f}`;
  const user = auth['user'];
  if (user !== undefined && user !== null) {
    if (!isRecord(user) || typeof user['id'] !== 'number' || typeof user['login'] !== 'string')
      return 'auth.user';
  }
  const inst = auth['installation'];
  if (inst !== undefined && inst !== null && !isRecord(inst)) return 'auth.installation';
  const exp = auth['expires_at'];
  if (exp !== undefined && !isNullableString(exp)) return 'auth.expires_at';
  return undefined;
}

/** Parse and validate a KV value; the error says what is wrong with it. */
export function decodeValue(text: string): Result<StoredValue> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return err('not JSON');
  }
  if (!isRecord(raw)) return err('not an object');
  if (raw['v'] !== VALUE_VERSION) return err('unknown version');
  if (!isEpochS(raw['fresh_until']) || !isEpochS(raw['stored_at'])) return err('bad timestamps');
  const kind = raw['kind'];
  if (kind === 'negative' || kind === 'revoked') {
    return ok({ v: 1, kind, fresh_until: raw['fresh_until'], stored_at: raw['stored_at'] });
  }
  if (kind !== 'positive') return err('unknown kind');
  const problem = authProblem(raw['auth']);
  if (problem !== undefined) return err(problem);
  const auth = raw['auth'] as unknown as PublicAuthorization;
  const userId = raw['user_id'];
  const authUserId = auth.user?.id ?? null;
  if (userId !== authUserId) return err('user_id does not match auth.user');
  return ok({
    v: 1,
    kind,
    auth,
    user_id: authUserId,
    fresh_until: raw['fresh_until'],
    stored_at: raw['stored_at'],
  });
}

export function fromEpochS(s: number): number {
  return Math.round(s * 1000);
}
