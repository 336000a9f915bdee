/**
 * Schema validation for every route (src/routes/api.ts): one valibot schema validates a request
 * part and documents it. A failure names each field and what is wrong with it; values are never
 * echoed (a field may hold a token), so valibot's default messages — which quote the input — are
 * replaced by our own, and a caller-chosen key is repeated only when it looks like a field name.
 */
import * as v from 'valibot';
import { GatewayError, type ErrorCode } from '../lib/errors';
import { shapeProblem, unwrap, type SchemaNode } from '../lib/schema';
import { looksSecret } from '../lib/secret-shaped';

export interface FieldError {
  /** Where: `body.access_token`, `path.app`, `form.token` … */
  field: string;
  message: string;
}

/** Where a request part is named in field paths: `body`, `path`, `query`, `header`, `form`. */
export type Part = 'body' | 'path' | 'query' | 'header' | 'form';

/**
 * A path segment or key as it may appear in an error: every real field and permission name is
 * lower-case letters, digits and underscores; anything else, or anything credential-shaped (a
 * lower-case `gho_…` or 40-hex token sent as a key), is not repeated.
 */
export function safeSegment(segment: unknown): string {
  if (typeof segment === 'number') return String(segment);
  return typeof segment === 'string' &&
    /^[a-z_][a-z0-9_-]{0,63}$/.test(segment) &&
    !looksSecret(segment)
    ? segment
    : '(unnamed)';
}

type AnyIssue = v.BaseIssue<unknown>;
type AnySchema = v.GenericSchema;

/** Our message for an issue whose schema or action gave none; never quotes the input. */
function messageOf(issue: AnyIssue): string {
  if (issue.kind === 'schema') {
    if (issue.input === undefined) return 'is required';
    // `expected` comes from the schema (a type name, a literal, a list of literals), not the input.
    return `must be ${issue.expected ?? 'valid'}`;
  }
  const requirement = (issue as { requirement?: unknown }).requirement;
  switch (issue.type) {
    case 'min_length':
      return `must be at least ${String(requirement)} long`;
    case 'max_length':
      return `must be at most ${String(requirement)} long`;
    case 'min_value':
      return `must be at least ${String(requirement)}`;
    case 'max_value':
      return `must be at most ${String(requirement)}`;
    case 'integer':
      return 'must be an integer';
    case 'regex':
      return 'has an invalid format';
    case 'url':
      return 'must be a URL';
    default:
      return 'is invalid';
  }
}

const PARSE_CONFIG = { abortEarly: false, message: messageOf } as const;

/** The object keys a schema accepts at `path` (through pipes, optionals, unions and arrays). */
function keysAt(schema: AnySchema, path: readonly unknown[]): string[] {
  const seen: string[] = [];
  const walk = (node: SchemaNode, rest: readonly unknown[]): void => {
    if (node.options !== undefined) return node.options.forEach((o) => walk(unwrap(o), rest));
    if (node.item !== undefined) return walk(unwrap(node.item), rest.slice(1));
    if (node.entries === undefined) return;
    if (rest.length === 0) seen.push(...Object.keys(node.entries));
    else {
      const next = node.entries[String(rest[0])];
      if (next !== undefined) walk(unwrap(next), rest.slice(1));
    }
  };
  walk(unwrap(schema), path);
  return seen;
}

/** The closest known key within two edits (a typo, a missing or doubled letter), if any. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key, candidate, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance, giving up (returning `limit`) once it cannot be below `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    if (Math.min(...current) >= limit) return limit;
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The field errors of failed issues, `part.`-prefixed. A misspelt key is one error, not two: the
 * unknown key names the field it resembles, and that field's own "is required" is dropped.
 */
export function fieldErrors(
  schema: AnySchema,
  part: Part,
  issues: readonly AnyIssue[],
): FieldError[] {
  const errors: FieldError[] = [];
  const suggested = new Set<string>();
  for (const issue of issues) {
    const keys = (issue.path ?? []).map((p) => p.key);
    const unknownKey =
      issue.kind === 'schema' && issue.type === 'strict_object' && issue.expected === 'never';
    if (!unknownKey) continue;
    const at = keys.slice(0, -1);
    const field = [part, ...at.map(safeSegment)].join('.');
    const key = safeSegment(keys[keys.length - 1]);
    const suggestion = key === '(unnamed)' ? undefined : closestKey(key, keysAt(schema, at));
    if (suggestion !== undefined) suggested.add(`${field}.${suggestion}`);
    errors.push({
      field,
      message:
        `unknown field \`${key}\`` +
        (suggestion === undefined ? '' : `; did you mean \`${suggestion}\`?`),
    });
  }
  for (const issue of issues) {
    if (issue.kind === 'schema' && issue.type === 'strict_object' && issue.expected === 'never')
      continue;
    const field = [part, ...(issue.path ?? []).map((p) => safeSegment(p.key))].join('.');
    if (issue.input === undefined && suggested.has(field)) continue;
    errors.push({ field, message: issue.message });
  }
  return errors;
}

/** Validates `input` against `schema`, or throws a problem (`code`) naming every field. */
export function validate<S extends AnySchema>(
  schema: S,
  input: unknown,
  part: Part,
  code: ErrorCode = 'validation-failed',
): v.InferOutput<S> {
  const shape = shapeProblem(schema, input);
  const result = shape === undefined ? v.safeParse(schema, input, PARSE_CONFIG) : undefined;
  if (result?.success === true) return result.output;
  const errors =
    result === undefined
      ? [
          {
            field: [part, ...(shape?.path ?? []).map(safeSegment)].join('.'),
            message: shape?.message ?? 'is invalid',
          },
        ]
      : fieldErrors(schema, part, result.issues);
  const first = errors[0];
  throw new GatewayError(code, {
    detail: first === undefined ? 'The request is invalid' : `${first.field}: ${first.message}`,
    extensions: { errors },
  });
}
