/**
 * valibot objects and records for untrusted JSON and config. valibot's own object() and record()
 * accept arrays (`'keys' in []` is true, indices are keys), so `[]` would pass an object whose
 * fields are all optional and `["read"]` a record of permissions; GitHub and the config never
 * mean an array there. These refuse one first, as a type error at the object's own path.
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
