/**
 * RFC 9701 signed introspection answers, and the public key set verifiers fetch.
 *
 * One signer per isolate and configuration (`signerFor` memoises it on the config object): keys
 * are validated when the gateway is built, and the first key's private half is imported lazily,
 * once, on the first signed answer. A failed import (a key that validates but WebCrypto rejects)
 * is not remembered, so fixing the secret and redeploying is the only step needed; until then
 * signed answers fail with 500 `misconfigured` and JSON answers keep working.
 */
import { SignJWT, importJWK, type CryptoKey } from 'jose';
import { GatewayError, errorName } from '../lib/errors';
import type { IntrospectionResponse } from './response';
import {
  parseSigningKeys,
  type PublicJwk,
  type SigningAlgorithm,
  type SigningKey,
} from './signing-keys';

/** RFC 9701 §5: the `typ` header of a signed introspection answer. */
export const INTROSPECTION_JWT_TYP = 'token-introspection+jwt';

export interface SignOptions {
  /** The authorization server's issuer identifier (RFC 8414 `issuer`). */
  issuer: string;
  /** The resource server that asked: the caller's `sub`. */
  audience: string;
  /** The RFC 7662 answer, carried in the `token_introspection` claim. */
  response: IntrospectionResponse;
  /** Epoch milliseconds, for `iat`. */
  nowMs: number;
}

export class IntrospectionSigner {
  readonly #keys: SigningKey[];
  #privateKey: Promise<CryptoKey> | undefined;

  /** Throws an Error naming the offending key when the configuration is invalid. */
  constructor(configured: readonly Record<string, unknown>[]) {
    this.#keys = parseSigningKeys(configured);
  }

  get canSign(): boolean {
    return this.#keys.length > 0;
  }

  /** The distinct algorithms of the published keys, for RFC 8414 metadata. */
  algorithms(): SigningAlgorithm[] {
    return [...new Set(this.#keys.map((k) => k.alg))];
  }

  /** Every configured key's public half (RFC 7517 §5), signer first. */
  publicJwks(): { keys: PublicJwk[] } {
    return { keys: this.#keys.map((k) => ({ ...k.publicJwk })) };
  }

  /**
   * RFC 9701 §5: header `typ: token-introspection+jwt` and the signing key's `kid`; claims `iss`,
   * `aud`, `iat` and `token_introspection`. No `sub` and no `exp`: RFC 9701 §5 asks for neither
   * so the answer cannot pass for an access token.
   */
  async sign(options: SignOptions): Promise<string> {
    const key = this.#keys[0];
    if (key === undefined) {
      throw new GatewayError('not-acceptable', {
        detail: 'Signed introspection answers are not configured on this gateway',
      });
    }
    const privateKey = await this.#import(key);
    return new SignJWT({ token_introspection: options.response })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: INTROSPECTION_JWT_TYP })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(Math.floor(options.nowMs / 1000))
      .sign(privateKey);
  }

  #import(key: SigningKey): Promise<CryptoKey> {
    if (this.#privateKey === undefined) {
      const pending = importJWK(key.privateJwk, key.alg).then((k) => {
        // importJWK returns bytes only for symmetric keys, which parseSigningKeys refuses.
        if (k instanceof Uint8Array) throw new TypeError('not an asymmetric key');
        return k;
      });
      this.#privateKey = pending;
      pending.catch(() => {
        if (this.#privateKey === pending) this.#privateKey = undefined;
      });
    }
    return this.#privateKey.catch((e: unknown) => {
      throw new GatewayError('misconfigured', {
        detail: 'The introspection signing key could not be loaded',
        reason: `INTROSPECTION_SIGNING_KEYS.0 (kid "${key.kid}") was refused by WebCrypto: ${errorName(
          e,
        )}`,
        cause: e,
      });
    });
  }
}

const signers = new WeakMap<object, IntrospectionSigner>();

/**
 * The signer for one parsed configuration, built on first use. Keyed on the configuration's
 * `introspection` object, which src/index.ts parses once per isolate and environment.
 */
export function signerFor(introspection: {
  signingKeys: readonly Record<string, unknown>[];
}): IntrospectionSigner {
  let signer = signers.get(introspection);
  if (signer === undefined) {
    signer = new IntrospectionSigner(introspection.signingKeys);
    signers.set(introspection, signer);
  }
  return signer;
}
