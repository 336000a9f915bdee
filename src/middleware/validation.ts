/**
 * The zod-openapi default hook: one schema validates a request and documents it; a failure
 * becomes a `validation-failed` (422) problem that names each field. Values are never echoed
 * (a field may hold a token).
 */
import type { Hook } from '@hono/zod-openapi';
import { GatewayError } from '../errors';

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Hook's generic slots are free.
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  const where = TARGET_NAMES[result.target] ?? result.target;
  const errors: FieldError[] = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    // zod's messages for unrecognised keys name the keys, never values.
    return { field: path.length > 0 ? `${where}.${path}` : where, message: issue.message };
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
