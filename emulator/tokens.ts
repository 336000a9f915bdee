/**
 * Token and credential material shaped like GitHub's. Since April 2021 GitHub tokens are a
 * type prefix (`gho_` OAuth-app user token, `ghu_` GitHub-App user token) followed by 36 base62
 * characters: 30 random ones and a CRC32 checksum of those, base62-encoded in the last 6 (GitHub
 * blog, "Behind GitHub's new authentication token formats"). GHES issues them from 3.2 on; older
 * releases issued 40 lower-case hex characters (GitHub's docs switch their examples after
 * `enterprise-server@3.1`, github/docs commit 9b06573). Matching the format matters because the
 * gateway refuses tokens no release could have issued before spending a GHES round trip.
 */
import { atLeast, type GhesVersion } from './versions';

export type TokenPrefix = 'gho_' | 'ghu_';

/** The first release that issues prefixed tokens. */
export const PREFIXED_TOKENS_SINCE = '3.2';
export const LEGACY_TOKEN_PATTERN = /^[0-9a-f]{40}$/;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const TOKEN_PATTERN = /^gh[ou]_[A-Za-z0-9]{36}$/;

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, '0');
}

/** Uniform base62 characters: rejection sampling avoids the modulo bias of `byte % 62`. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function newToken(prefix: TokenPrefix): string {
  const entropy = randomBase62(30);
  return `${prefix}${entropy}${base62(crc32(entropy), 6)}`;
}

/** 40 lower-case hex characters: a user token as GHES before 3.2 issued it. */
export function newLegacyToken(): string {
  return hex(crypto.getRandomValues(new Uint8Array(20)));
}

/** A user token of an app of this kind, in the format `version` issues. */
export function newUserToken(kind: 'oauth_app' | 'github_app', version: GhesVersion): string {
  if (!atLeast(version, PREFIXED_TOKENS_SINCE)) return newLegacyToken();
  return newToken(kind === 'github_app' ? 'ghu_' : 'gho_');
}

/** True when the last 6 characters are the checksum of the 30 before them. */
export function hasValidChecksum(token: string): boolean {
  if (!TOKEN_PATTERN.test(token)) return false;
  const entropy = token.slice(4, 34);
  return base62(crc32(entropy), 6) === token.slice(34);
}

/**
 * A GitHub-App refresh token: `ghr_` and 76 base62 characters from 3.2 (GitHub's docs example),
 * `r1.` and 80 hex characters before (the 2.22 – 3.1 docs example).
 */
export function newRefreshToken(version: GhesVersion): string {
  if (!atLeast(version, PREFIXED_TOKENS_SINCE))
    return `r1.${hex(crypto.getRandomValues(new Uint8Array(40)))}`;
  return `ghr_${randomBase62(76)}`;
}

/** An authorization code as GitHub hands it to the browser: 20 hex characters. */
export function newAuthorizationCode(): string {
  return hex(crypto.getRandomValues(new Uint8Array(10)));
}

/** 40 lowercase hex characters, the shape of GHES OAuth-app and GitHub-App client secrets. */
export function newClientSecret(): string {
  return hex(crypto.getRandomValues(new Uint8Array(20)));
}

/** GitHub App client ids: `Iv1.` and 16 hex characters. */
export function newGithubAppClientId(): string {
  return `Iv1.${hex(crypto.getRandomValues(new Uint8Array(8)))}`;
}

/** OAuth-app client ids on GHES: 20 hex characters. */
export function newOauthClientId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(10)));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `hashed_token`: base64 of the SHA-256 of the token, as GitHub returns it. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  let binary = '';
  for (const b of new Uint8Array(digest)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Constant-time string comparison for client secrets (length is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
