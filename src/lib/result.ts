/**
 * The one result shape of pure logic (validators, decoders, decisions): a value or an error,
 * never a throw. Modelled on cloudflare/workers-oauth-provider's validators.
 */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
