/**
 * What the secrecy properties generate: client ids and secrets, peppers, GitHub tokens, hostile
 * token-like values, user passwords and PKCE verifiers. Shared by every file in test/property.
 */
import fc from 'fast-check';
import type { GeneratedSecrets } from './harness';

const BASE62 = /^[A-Za-z0-9]$/;
export const base62 = (n: number) =>
  fc.string({
    unit: fc.stringMatching(BASE62).map((s) => s.slice(0, 1)),
    minLength: n,
    maxLength: n,
  });
export const githubToken = (prefix: 'gho_' | 'ghu_') => base62(36).map((s) => `${prefix}${s}`);
/** Printable ASCII, as secrets and peppers come from a secret store. */
export const printable = (min: number, max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: min,
    maxLength: max,
  });

export const secretsArb: fc.Arbitrary<GeneratedSecrets> = fc.record({
  oauthClientId: fc.stringMatching(/^[a-f0-9]{20}$/),
  oauthSecret: printable(20, 72),
  ghClientId: fc.stringMatching(/^Iv1\.[a-f0-9]{16}$/),
  ghSecret: printable(20, 72),
  pepper: printable(32, 96),
});

/** A token-like value the gateway must treat as opaque: anything from plausible to hostile. */
export const hostileToken = fc.oneof(
  githubToken('gho_'),
  printable(16, 255),
  fc.string({ unit: 'grapheme', minLength: 16, maxLength: 80 }),
  fc.string({ unit: 'binary', minLength: 16, maxLength: 80 }),
);

/**
 * A GHES user's password: printable ASCII (`:` included: only the login ends at the first colon)
 * or any text without control characters. At least 12 characters, so that finding it in a log
 * line is a leak, not a coincidence.
 */
export const passwordArb = fc.oneof(
  printable(12, 64),
  fc
    .string({ unit: 'grapheme', minLength: 12, maxLength: 40 })
    .filter((p) => /^[^\x00-\x1f\x7f]+$/u.test(p)),
);

/** An RFC 7636 code_verifier: 43–128 unreserved characters. */
export const codeVerifierArb = fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/);

/** Header values must be ByteStrings; a value that is not one is sent percent-encoded. */
export const headerSafe = (t: string) => (/^[\x20-\x7e]*$/.test(t) ? t : encodeURIComponent(t));
