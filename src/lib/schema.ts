/**
 * valibot pieces for untrusted JSON and config. valibot's own object() and record() accept
 * arrays (`'keys' in []` is true, indices are keys), so `[]` would pass an object whose fields
 * are all optional and `["read"]` a record of permissions; GitHub and the config never mean an
 * array there. The wrappers below refuse one first, as a type error at the object's own path; a
 * request schema, which must also convert to JSON Schema for /openapi.json (where `v.custom`
 * cannot go), is checked by `shapeProblem` instead, which walks the plain schema beside the input.
 * withoutValue: issue messages that never repeat the input.
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

/**
 * For request schemas (src/middleware/validation.ts): two things valibot lets through that untrusted JSON must not carry, found by walking the schema
 * beside the input before it is parsed (`shapeProblem`):
 * - its object and record schemas accept any `typeof x === 'object'`, arrays included: `[]`
 *   passes `v.object({ a: v.optional(v.string()) })` and `v.record(…)`;
 * - its record schema silently drops the keys `__proto__`, `constructor` and `prototype`, so what
 *   was sent is not what was checked.
 */
const OBJECT_TYPES = new Set([
  'object',
  'strict_object',
  'loose_object',
  'object_with_rest',
  'record',
]);

/** A schema as the walkers over schemas read it: valibot's own public fields. */
export interface SchemaNode {
  type: string;
  pipe?: SchemaNode[];
  wrapped?: SchemaNode;
  options?: SchemaNode[];
  item?: SchemaNode;
  entries?: Record<string, SchemaNode>;
  value?: SchemaNode;
  rest?: SchemaNode;
}

/** The schema under its pipes (their first item) and optional / nullable / nullish wrappers. */
export function unwrap(schema: v.GenericSchema | SchemaNode): SchemaNode {
  let node = schema as SchemaNode;
  for (;;) {
    const inner = node.pipe?.[0] ?? node.wrapped;
    if (inner === undefined) return node;
    node = inner;
  }
}

export interface ShapeProblem {
  path: (string | number)[];
  message: string;
}

const DROPPED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first array in place of an object, or record key valibot would drop; or undefined. */
export function shapeProblem(schema: v.GenericSchema, input: unknown): ShapeProblem | undefined {
  return walk(unwrap(schema), input, []);
}

/** `node` is unwrapped; a null or missing value under an optional wrapper ends here too. */
function walk(
  node: SchemaNode,
  input: unknown,
  path: (string | number)[],
): ShapeProblem | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  if (node.options !== undefined) {
    // A union is wrong only if every option finds an array in place of an object.
    let first: ShapeProblem | undefined;
    for (const option of node.options) {
      const found = walk(unwrap(option), input, path);
      if (found === undefined) return undefined;
      first ??= found;
    }
    return first;
  }
  if (node.type === 'array' && node.item !== undefined) {
    if (!Array.isArray(input)) return undefined;
    for (let i = 0; i < input.length; i++) {
      const found = walk(unwrap(node.item), input[i], [...path, i]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!OBJECT_TYPES.has(node.type)) return undefined;
  if (Array.isArray(input)) return { path, message: 'must be an object' };
  const record = input as Record<string, unknown>;
  if (node.entries !== undefined) {
    for (const [key, entry] of Object.entries(node.entries)) {
      if (!Object.hasOwn(record, key)) continue;
      const found = walk(unwrap(entry), record[key], [...path, key]);
      if (found !== undefined) return found;
    }
  }
  const rest = node.type === 'record' ? node.value : node.rest;
  if (node.type === 'record')
    for (const key of Object.keys(record))
      if (DROPPED_KEYS.has(key)) return { path: [...path, key], message: 'is not an accepted key' };
  if (rest !== undefined) {
    for (const [key, value] of Object.entries(record)) {
      if (node.entries !== undefined && Object.hasOwn(node.entries, key)) continue;
      const found = walk(unwrap(rest), value, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
