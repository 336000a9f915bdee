/**
 * Cache keys. Trust boundary: a raw GitHub token enters here and leaves only as an HMAC. It is
 * kept in this isolate's memory only while its key is remembered (`KnownKeys`), never longer than
 * its cached answer stays fresh.
 *
 * The key of a token is HMAC-SHA-256(pepper, "v1\0tok\0" + client_id + "\0" + token), base64url
 * without padding (43 characters). The pepper is a Worker secret that never reaches KV, so a
 * leaked KV namespace cannot be used to test guessed tokens offline (a plain SHA-256, as
 * workers-oauth-provider uses for its own high-entropy secrets, would allow that). client_id is
 * part of the MAC input so the same token checked against two apps gets two unrelated keys; it
 * cannot contain "\0" (src/config restricts it to [A-Za-z0-9._-]), so the encoding is unambiguous.
 *
 * The version is both in the MAC input and in the key prefix: changing the derivation means
 * bumping it, and old entries simply stop being found and expire on their own.
 */
import { MAX_TOKEN_LENGTH } from '../config/types';
import { Lru } from '../lib/lru';

export const KEY_VERSION = 'v1';
const TOKEN_PREFIX = `${KEY_VERSION}:tok:`;
const EPOCH_PREFIX = `${KEY_VERSION}:epoch:`;
const REVOKED_PREFIX = `${KEY_VERSION}:revoked:`;

/** Workers KV refuses keys longer than 512 bytes. */
export const KV_MAX_KEY_BYTES = 512;

/** Length of the `tokenId` used in audit logs: 12 base64url characters = 72 bits of the MAC. */
export const TOKEN_ID_LENGTH = 12;

const encoder = new TextEncoder();

/**
 * Tokens longer than this are keyed every time, never remembered (KnownKeys): it is the longest
 * token the gateway accepts anywhere, so the map's memory stays bounded by its entry count
 * whatever a caller sends.
 */
export const MAX_REMEMBERED_TOKEN_LENGTH = MAX_TOKEN_LENGTH;

/**
 * Remembering recently computed keys, so that a cached token's next check makes no
 * `crypto.subtle` call: on an L1 hit that call was a tenth of the answer's cost over HTTP
 * (docs/performance.md). The remembered map is keyed by the MAC input, so it holds raw tokens:
 * in isolate memory only (as the caller-JWT cache holds caller JWTs, src/auth/caller-jwt.ts),
 * bounded in number like L1, and each for at most `ttlMs` after its key was computed.
 */
export interface KnownKeys {
  /** Keys remembered at most; 0 remembers none. */
  maxEntries: number;
  /** How long a key is remembered after it was computed, ms (the cache's positive freshness). */
  ttlMs: number;
  clock: { now(): number };
}

export class TokenKeyer {
  readonly #pepper: Uint8Array;
  /**
   * Imported once per isolate and then reused. Deliberately a settled value, not a shared
   * promise: a promise created by one request and awaited by another can hang in workerd if the
   * first request is cancelled, so a cold isolate's concurrent first requests may each import
   * the key (cheap) and the last one wins.
   */
  #key: CryptoKey | undefined;
  /** Keys remembered (KnownKeys), with their clock and lifetime; undefined remembers none. */
  readonly #known:
    | { keys: Lru<{ hash: string; untilMs: number }>; ttlMs: number; clock: { now(): number } }
    | undefined;

  constructor(pepper: string, known?: KnownKeys) {
    this.#pepper = encoder.encode(pepper);
    if (known !== undefined && known.maxEntries > 0) {
      if (!(known.ttlMs > 0)) throw new RangeError('TokenKeyer: known keys need a positive ttlMs');
      this.#known = { keys: new Lru(known.maxEntries), ttlMs: known.ttlMs, clock: known.clock };
    }
  }

  /** base64url HMAC of (client_id, token): remembered, or one crypto.subtle call. */
  async hash(clientId: string, token: string): Promise<string> {
    const input = macInput(clientId, token);
    // An expired one is computed again below, and replaces this one.
    const remembered = this.#remembered(input);
    if (remembered !== undefined) return remembered;
    let key = this.#key;
    if (key === undefined) {
      key = await crypto.subtle.importKey(
        'raw',
        this.#pepper,
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign'],
      );
      this.#key = key;
    }
    const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(input));
    const hash = base64url(new Uint8Array(mac));
    const known = this.#known;
    if (known !== undefined && token.length <= MAX_REMEMBERED_TOKEN_LENGTH)
      known.keys.set(input, { hash, untilMs: known.clock.now() + known.ttlMs });
    return hash;
  }

  /**
   * The key `hash` would give, if it is remembered and still fresh; undefined otherwise. Without a
   * promise: the hot paths answer an L1 hit synchronously (src/routes/lean.ts).
   */
  knownHash(clientId: string, token: string): string | undefined {
    return this.#remembered(macInput(clientId, token));
  }

  #remembered(input: string): string | undefined {
    const known = this.#known;
    if (known === undefined) return undefined;
    const entry = known.keys.get(input);
    return entry !== undefined && known.clock.now() < entry.untilMs ? entry.hash : undefined;
  }
}

/** The MAC input of a token's key, and the remembered keys' map key. */
function macInput(clientId: string, token: string): string {
  return `${KEY_VERSION}\0tok\0${clientId}\0${token}`;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** RFC 4648 §5 without padding. Hand-rolled: it is on the hit path and avoids btoa + 3 replaces. */
export function base64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[(n >> 18) & 63]! +
      ALPHABET[(n >> 12) & 63]! +
      ALPHABET[(n >> 6) & 63]! +
      ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/** `v1:tok:<base64url hmac>`: 50 bytes. */
export function tokenKey(hash: string): string {
  return TOKEN_PREFIX + hash;
}

/**
 * `v1:revoked:<base64url hmac>`: the token's revocation tombstone (54 bytes). Its own key, so that
 * no answer stored under `tokenKey` can ever overwrite it (docs/cache.md, storage schema).
 */
export function revokedKey(hash: string): string {
  return REVOKED_PREFIX + hash;
}

/** The audit-log handle of a token: a prefix of its keyed hash, useless without the pepper. */
export function tokenIdOf(hash: string): string {
  return hash.slice(0, TOKEN_ID_LENGTH);
}

/**
 * `v1:epoch:<client_id>:<user_id>`: when the grant of that user for that app was last revoked.
 * Neither part is secret. Throws if the key would exceed KV's limit, which a client_id that
 * passed src/config (≤ 100 characters) cannot do.
 */
export function epochKey(clientId: string, userId: number): string {
  const key = `${EPOCH_PREFIX}${clientId}:${userId}`;
  if (encoder.encode(key).byteLength > KV_MAX_KEY_BYTES) {
    throw new RangeError('cache epoch key exceeds the KV key limit; client_id too long');
  }
  return key;
}

/** The in-isolate map key for a (client_id, user id) pair. */
export function grantScope(clientId: string, userId: number): string {
  return `${clientId}:${userId}`;
}
