/**
 * RFC 9211 `Cache-Status` values. A member is the cache's name followed by parameters
 * (RFC 9211 §2): `hit`, `fwd` (why the request went on to GHES), `fwd-status` (what GHES said),
 * `ttl` (remaining freshness, negative when stale), `stored`, `collapsed` (answered by another
 * request's GHES call) and `detail` (implementation-specific: which tier, or why).
 * The syntax is an RFC 8941 structured-field list member.
 */
export const CACHE_NAME = 'ghes-token-gateway';

/** RFC 9211 §2.2 `fwd` values this cache uses. */
export type ForwardReason =
  /** No entry at all for this token. */
  | 'uri-miss'
  /** An entry existed but could not be used (invalidated by a grant revocation, corrupt, KV failed). */
  | 'miss'
  /** An entry existed but its freshness had run out. */
  | 'stale';

export interface CacheStatusParams {
  hit?: boolean;
  fwd?: ForwardReason;
  fwdStatus?: number;
  ttl?: number;
  stored?: boolean;
  collapsed?: boolean;
  detail?: string;
}

/** RFC 8941 §3.3.4 sf-token. */
const SF_TOKEN = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*$/;

function sfTokenOrString(value: string): string {
  if (SF_TOKEN.test(value)) return value;
  // RFC 8941 §3.3.3: only printable ASCII, with `"` and `\` escaped.
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export function formatCacheStatus(p: CacheStatusParams): string {
  let out = CACHE_NAME;
  if (p.hit === true) out += '; hit';
  if (p.fwd !== undefined) out += `; fwd=${p.fwd}`;
  if (p.fwdStatus !== undefined) out += `; fwd-status=${Math.trunc(p.fwdStatus)}`;
  if (p.ttl !== undefined) out += `; ttl=${Math.trunc(p.ttl)}`;
  if (p.stored === true) out += '; stored';
  if (p.collapsed === true) out += '; collapsed';
  if (p.detail !== undefined) out += `; detail=${sfTokenOrString(p.detail)}`;
  return out;
}

/**
 * What an inactive answer's `Cache-Status` may say: where it came from (`hit` and its tier, or
 * `fwd=miss`), whether it was stored, whether it was collapsed, and nothing else. A revocation
 * tombstone lives longer than a negative entry (its `ttl` would differ), an answer overtaken by a
 * revocation saw GHES say 200 (`fwd-status`, `detail=revoked`), and an entry a grant revocation
 * made unusable forwards as `miss` where an unknown token forwards as `uri-miss`: any of these
 * would tell a caller that a token it holds was revoked rather than never valid. RFC 9211 §2.2
 * `miss` ("could not be used to satisfy this request") covers every forwarding reason here.
 */
export function inactiveCacheStatus(p: CacheStatusParams): CacheStatusParams {
  const out: CacheStatusParams = {};
  if (p.hit === true) {
    out.hit = true;
    if (p.detail === 'l1' || p.detail === 'kv') out.detail = p.detail;
  } else {
    out.fwd = 'miss';
  }
  if (p.stored === true) out.stored = true;
  if (p.collapsed === true) out.collapsed = true;
  return out;
}

/** An inactive answer from this isolate's memory: a negative entry or a tombstone alike. */
export const INACTIVE_L1_HIT = formatCacheStatus({ hit: true, detail: 'l1' });
