/**
 * Request-body checks of the app-token endpoints, answering the way GitHub does: a body that is
 * not JSON is a 400 "Problems parsing JSON"; a body that breaks the operation's JSON schema is a
 * 422 "Invalid request." naming the member; a body that passes the schema but breaks a rule stated
 * only in the description (`target` or `target_id`, `repositories` xor `repository_ids`, known
 * permission names) is a 422 "Validation Failed" with an `errors` list.
 */
import { appPermissions } from './permissions';
import type { FieldError } from './responses';
import type { ScopeRequest } from './state';
import type { GhesVersion } from './versions';

export type BodyResult<T> =
  | { ok: true; value: T }
  | { ok: false; kind: 'invalid'; detail: string }
  | { ok: false; kind: 'failed'; errors: FieldError[] };

/** An empty body counts as `{}`: GitHub reports the missing member, not the missing body. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function accessTokenOf(body: Record<string, unknown>): BodyResult<string> {
  const token = body['access_token'];
  if (token === undefined)
    return { ok: false, kind: 'invalid', detail: '"access_token" wasn\'t supplied.' };
  if (typeof token !== 'string') {
    return {
      ok: false,
      kind: 'invalid',
      detail: `For 'properties/access_token', ${show(token)} is not a string.`,
    };
  }
  return { ok: true, value: token };
}

export function parseTokenBody(value: unknown): BodyResult<string> {
  const body = objectOf(value);
  if (!body) return { ok: false, kind: 'invalid', detail: `${show(value)} is not an object.` };
  return accessTokenOf(body);
}

export interface ScopedBody extends ScopeRequest {
  accessToken: string;
}

const RESOURCE = 'ScopedAccessToken';

export function parseScopedBody(value: unknown, version: GhesVersion): BodyResult<ScopedBody> {
  const body = objectOf(value);
  if (!body) return { ok: false, kind: 'invalid', detail: `${show(value)} is not an object.` };
  const token = accessTokenOf(body);
  if (!token.ok) return token;
  const out: ScopedBody = { accessToken: token.value };
  const invalid = (detail: string): BodyResult<ScopedBody> => ({
    ok: false,
    kind: 'invalid',
    detail,
  });

  const {
    target,
    target_id: targetId,
    repositories,
    repository_ids: repositoryIds,
    permissions,
  } = body;
  if (target !== undefined) {
    if (typeof target !== 'string')
      return invalid(`For 'properties/target', ${show(target)} is not a string.`);
    out.target = target;
  }
  if (targetId !== undefined) {
    if (typeof targetId !== 'number' || !Number.isInteger(targetId)) {
      return invalid(`For 'properties/target_id', ${show(targetId)} is not an integer.`);
    }
    out.targetId = targetId;
  }
  if (repositories !== undefined) {
    if (!Array.isArray(repositories))
      return invalid(`For 'properties/repositories', ${show(repositories)} is not an array.`);
    const bad = repositories.find((r) => typeof r !== 'string');
    if (bad !== undefined) return invalid(`For 'items', ${show(bad)} is not a string.`);
    out.repositories = repositories as string[];
  }
  if (repositoryIds !== undefined) {
    if (!Array.isArray(repositoryIds)) {
      return invalid(`For 'properties/repository_ids', ${show(repositoryIds)} is not an array.`);
    }
    const bad = repositoryIds.find((r) => typeof r !== 'number' || !Number.isInteger(r));
    if (bad !== undefined) return invalid(`For 'items', ${show(bad)} is not an integer.`);
    out.repositoryIds = repositoryIds as number[];
  }
  if (permissions !== undefined) {
    const perms = objectOf(permissions);
    if (!perms)
      return invalid(`For 'properties/permissions', ${show(permissions)} is not an object.`);
    const known = appPermissions(version);
    const errors: FieldError[] = [];
    const accepted: Record<string, string> = {};
    for (const [name, level] of Object.entries(perms)) {
      const levels = known.get(name);
      if (!levels) {
        errors.push({
          resource: RESOURCE,
          field: 'permissions',
          code: 'invalid',
          message: `${name} is not a valid permission.`,
        });
        continue;
      }
      if (typeof level !== 'string' || !levels.includes(level)) {
        return invalid(`For 'properties/${name}', ${show(level)} is not one of ${show(levels)}.`);
      }
      accepted[name] = level;
    }
    if (errors.length > 0) return { ok: false, kind: 'failed', errors };
    out.permissions = accepted;
  }

  const errors: FieldError[] = [];
  if (out.target === undefined && out.targetId === undefined) {
    errors.push({
      resource: RESOURCE,
      field: 'target',
      code: 'missing_field',
      message: 'target or target_id is required.',
    });
  }
  if (out.repositories !== undefined && out.repositoryIds !== undefined) {
    errors.push({
      resource: RESOURCE,
      field: 'repository_ids',
      code: 'invalid',
      message: 'repositories and repository_ids may not both be specified.',
    });
  }
  if (errors.length > 0) return { ok: false, kind: 'failed', errors };
  return { ok: true, value: out };
}
