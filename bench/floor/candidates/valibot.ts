/**
 * Candidate (a)'s schema: valibot (one function per schema and action, tree-shaken), validated
 * through Standard Schema, and its issues as the floors' stable field errors.
 */
import * as v from 'valibot';
import { APP_PATTERN, fieldOf, TOKEN_PATTERN, type FieldError } from './shape';

export const TokenCheck = v.strictObject({
  app: v.pipe(v.string(), v.regex(new RegExp(APP_PATTERN))),
  token: v.pipe(v.string(), v.regex(new RegExp(TOKEN_PATTERN))),
  scope: v.optional(v.string()),
});

type Issue = v.InferIssue<typeof TokenCheck>;

export function valibotFieldErrors(issues: readonly Issue[]): FieldError[] {
  return issues.map((issue) => {
    const field = fieldOf(issue.path?.map((p) => p.key));
    if (issue.type === 'regex') return { field, code: 'pattern' };
    // strictObject reports an unknown key as expecting `never`, a missing one as `undefined` received.
    if (issue.type === 'strict_object' && issue.path !== undefined)
      return { field, code: issue.expected === 'never' ? 'unknown_field' : 'missing' };
    return { field, code: issue.kind === 'schema' ? 'type' : 'invalid' };
  });
}
