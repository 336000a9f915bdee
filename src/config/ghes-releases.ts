/**
 * What each GHES release offers (../shared/ghes-openapi/README.md):
 * - body-style check / reset / delete token and delete grant: 2.20 – 3.22;
 * - scoped token (GitHub Apps only): 3.0 – 3.22;
 * - legacy path-style `/tokens/{access_token}` and `/grants/{access_token}`: 2.18 – 3.3.
 */
import { err, ok, type Result } from '../lib/result';
import { SCOPED_PERMISSION_SPANS, SCOPED_TOKEN_VERSIONS } from './permissions.generated';
import type { ApiStyle, GhesVersion } from './types';

/** The releases the gateway supports, oldest and newest. */
export const OLDEST_GHES = '2.18';
export const NEWEST_GHES = '3.22';

function at(v: GhesVersion): number {
  return v.major * 100 + v.minor;
}

/** `3.22` → {3, 22}; an error for anything else or a release outside 2.18 – 3.22. */
export function parseGhesVersion(label: string): Result<GhesVersion> {
  const match = /^(\d+)\.(\d+)$/.exec(label);
  if (match === null) return err('must look like 3.22');
  const version = { major: Number(match[1]), minor: Number(match[2]), label };
  if (at(version) < 218 || at(version) > 322)
    return err(`must be a GHES version from ${OLDEST_GHES} to ${NEWEST_GHES}`);
  return ok(version);
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
export function resolveApiStyle(v: GhesVersion, wanted: 'auto' | ApiStyle): Result<ApiStyle> {
  if (wanted === 'auto') return ok(hasBodyStyle(v) ? 'body' : 'legacy');
  if (wanted === 'body' && !hasBodyStyle(v))
    return err(`GHES ${v.label} has no body-style token endpoints (2.20+)`);
  if (wanted === 'legacy' && !hasLegacyStyle(v))
    return err(`GHES ${v.label} has no legacy path-style token endpoints (≤ 3.3)`);
  return ok(wanted);
}

const tables = new Map<string, Readonly<Record<string, readonly string[]>>>();

/**
 * Permission names and levels the version's scoped-token endpoint accepts, or undefined for a
 * version without the endpoint. Built from the generated spans once per version and kept.
 */
export function scopedPermissions(
  v: GhesVersion,
): Readonly<Record<string, readonly string[]>> | undefined {
  const label = `${v.major}.${v.minor}`;
  const index = SCOPED_TOKEN_VERSIONS.indexOf(label);
  if (index < 0) return undefined;
  let table = tables.get(label);
  if (table === undefined) {
    const built: Record<string, readonly string[]> = {};
    for (const [name, spans] of Object.entries(SCOPED_PERMISSION_SPANS)) {
      for (const [first, last, levels] of spans) {
        if (
          SCOPED_TOKEN_VERSIONS.indexOf(first) <= index &&
          index <= SCOPED_TOKEN_VERSIONS.indexOf(last)
        ) {
          built[name] = levels;
        }
      }
    }
    table = built;
    tables.set(label, table);
  }
  return table;
}
