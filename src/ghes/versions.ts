/**
 * What each GHES version offers (../shared/ghes-openapi/README.md):
 * - body-style check / reset / delete token and delete grant: 2.20 – 3.22;
 * - scoped token (GitHub Apps only): 3.0 – 3.22;
 * - legacy path-style `/tokens/{access_token}` and `/grants/{access_token}`: 2.18 – 3.3.
 */
import type { GhesVersion } from '../env';
import { SCOPED_PERMISSIONS } from './permissions.generated';

export type ApiStyle = 'body' | 'legacy';

function at(v: GhesVersion): number {
  return v.major * 100 + v.minor;
}

export function hasBodyStyle(v: GhesVersion): boolean {
  return at(v) >= 220;
}

export function hasLegacyStyle(v: GhesVersion): boolean {
  return at(v) <= 303;
}

export function hasScopedToken(v: GhesVersion): boolean {
  return at(v) >= 300;
}

/**
 * `auto` prefers body style wherever the version has it: the token then travels in the body,
 * out of GHES and proxy access logs, and the legacy endpoints are deprecated from 2.20 on.
 */
export function resolveApiStyle(
  v: GhesVersion,
  wanted: 'auto' | ApiStyle,
): { ok: true; value: ApiStyle } | { ok: false; error: string } {
  if (wanted === 'auto') return { ok: true, value: hasBodyStyle(v) ? 'body' : 'legacy' };
  if (wanted === 'body' && !hasBodyStyle(v))
    return { ok: false, error: `GHES ${v.label} has no body-style token endpoints (2.20+)` };
  if (wanted === 'legacy' && !hasLegacyStyle(v))
    return { ok: false, error: `GHES ${v.label} has no legacy path-style token endpoints (≤ 3.3)` };
  return { ok: true, value: wanted };
}

/** Permission names and levels the version's scoped-token endpoint accepts, or undefined. */
export function scopedPermissions(
  v: GhesVersion,
): Readonly<Record<string, readonly string[]>> | undefined {
  return SCOPED_PERMISSIONS[`${v.major}.${v.minor}`];
}
