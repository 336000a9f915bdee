/** Who an authenticated request runs as (set by `callerAuth`, read by routes and policy). Types only. */
import type { CallerPolicyEntry } from '../config/types';

/** The registered claims of a verified caller JWT or Access assertion. */
export interface CallerClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat?: number;
}

export type CallerSource = 'jwt' | 'access' | 'mtls';

interface CallerBase {
  /** The CALLER_POLICY key this request runs as. */
  readonly sub: string;
  readonly policy: Readonly<CallerPolicyEntry>;
}

/** Authenticated by a caller JWT; `sub` is the token's `sub`. */
export interface JwtCaller extends CallerBase {
  readonly source: 'jwt';
  readonly claims: CallerClaims;
}

/** Authenticated by Cloudflare Access; `sub` is what ACCESS_SUBJECTS maps `identity` to. */
export interface AccessCaller extends CallerBase {
  readonly source: 'access';
  readonly claims: CallerClaims;
  /** The Access identity that was mapped: email, service-token common_name, or sub. */
  readonly identity: string;
}

/** Authenticated by an mTLS client certificate; `sub` is what MTLS_CALLERS maps it to. */
export interface MtlsCaller extends CallerBase {
  readonly source: 'mtls';
  /** Normalized fingerprint that matched (64 hex: SHA-256, 40 hex: SHA-1). */
  readonly fingerprint: string;
}

/** An authenticated caller and its policy entry (from CALLER_POLICY, keyed by `sub`). */
export type Caller = JwtCaller | AccessCaller | MtlsCaller;

/** Hono variables `callerAuth` sets: `c.var.caller`. */
export type CallerAuthVariables = { caller: Caller };

/** Where the caller's Bearer credential is read from. */
export type CallerCredentialHeader = 'authorization' | 'x-gateway-authorization';
