/**
 * valibot pieces for untrusted JSON and config. valibot's own object() and record() accept
 * arrays (`'keys' in []` is true, indices are keys), so `[]` would pass an object whose fields
 * are all optional and `["read"]` a record of permissions; GitHub and the config never mean an
 * array there. These refuse one first, as a type error at the object's own path. withoutValue:
 * issue messages that never repeat the input.
 */
import * as v from 'valibot';

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Any JSON object, not an array. */
export const jsonObject = v.custom<Record<string, unknown>>(isJsonObject, 'must be an object');

/** Unknown keys dropped. */
export function object<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(jsonObject, v.object(entries));
}

/** Unknown keys refused. */
export function strictObject<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(jsonObject, v.strictObject(entries));
}

/** Keys `__proto__`, `prototype` and `constructor` are dropped (valibot's record). */
export function record<
  const K extends v.GenericSchema<string, string>,
  const V extends v.GenericSchema,
>(key: K, value: V) {
  return v.pipe(jsonObject, v.record(key, value));
}

/**
 * A message for `v.safeParse(schema, input, { message: withoutValue })`. valibot's own messages
 * end "but received <value>", and a value may be a secret or a token: this one says what was
 * expected instead. Messages the schema gives are used as they are.
 */
export function withoutValue(issue: v.BaseIssue<unknown>): string {
  const what =
    issue.type === 'picklist'
      ? 'Invalid option'
      : (/^Invalid [a-z ]+(?=:)/.exec(issue.message)?.[0] ?? 'Invalid input');
  if (what === 'Invalid key')
    return issue.expected === 'never' ? 'is not a known field' : 'is required';
  return issue.expected === null ? what : `${what}: expected ${issue.expected}`;
}
