/**
 * zod's issues (classic and mini share them, zod/v4/core) as the floors' stable field errors:
 * what the gateway's hook would map to its problem's `errors`.
 */
import type { $ZodIssue } from 'zod/v4/core';
import { fieldOf, type FieldError } from './shape';

/** `data` is the raw input: zod v4 does not report it, and "missing" is "absent from the input". */
export function zodFieldErrors(issues: readonly $ZodIssue[], data: unknown): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((k) => ({
          field: fieldOf([...issue.path, k]),
          code: 'unknown_field',
        }));
      case 'invalid_format':
        return [
          { field: fieldOf(issue.path), code: issue.format === 'regex' ? 'pattern' : 'invalid' },
        ];
      case 'invalid_type': {
        const key = issue.path.length === 1 ? issue.path[0] : undefined;
        const absent =
          typeof data === 'object' && data !== null && typeof key === 'string' && !(key in data);
        return [{ field: fieldOf(issue.path), code: absent ? 'missing' : 'type' }];
      }
      default:
        return [{ field: fieldOf(issue.path), code: 'invalid' }];
    }
  });
}
