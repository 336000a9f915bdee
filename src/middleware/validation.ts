/**
 * The zod-openapi default hook: one schema validates a request and documents it; a failure
 * becomes a `validation-failed` (422) problem that names each field. Values are never echoed
 * (a field may hold a token).
 */
import type { Hook } from '@hono/zod-openapi';
import { GatewayError } from '../lib/errors';
import { looksSecret } from '../lib/secret-shaped';

export interface FieldError {
  /** Where: `body.access_token`, `path.app`, `form.token` … */
  field: string;
  message: string;
}

const TARGET_NAMES: Record<string, string> = {
  json: 'body',
  param: 'path',
  query: 'query',
  form: 'form',
  header: 'header',
};

/**
 * A path segment or key as it may appear in an error: every real field and permission name is
 * lower-case letters, digits and underscores; anything else, or anything credential-shaped (a
 * lower-case `gho_…` or 40-hex token sent as a key), is not repeated.
 */
export function safeSegment(segment: PropertyKey): string {
  if (typeof segment === 'number') return String(segment);
  return typeof segment === 'string' &&
    /^[a-z_][a-z0-9_]{0,63}$/.test(segment) &&
    !looksSecret(segment)
    ? segment
    : '(unnamed)';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Hook's generic slots are free.
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  const where = TARGET_NAMES[result.target] ?? result.target;
  const errors: FieldError[] = result.error.issues.map((issue) => {
    const path = issue.path.map(safeSegment).join('.');
    // zod quotes unrecognised keys in its message, and a caller-chosen key can be a token: name
    // only keys that look like field names.
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.map(safeSegment).join(', ')}`
        : issue.message;
    return { field: path.length > 0 ? `${where}.${path}` : where, message };
  });
  // An unknown app in the path is a 404, exactly like an app that is not configured.
  if (result.target === 'param' && errors.some((e) => e.field === 'path.app')) {
    throw new GatewayError('unknown-app', { detail: 'No app with that name is configured' });
  }
  const first = errors[0];
  throw new GatewayError('validation-failed', {
    detail: first === undefined ? 'The request is invalid' : `${first.field}: ${first.message}`,
    extensions: { errors },
  });
};
