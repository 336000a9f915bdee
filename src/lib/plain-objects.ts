/**
 * valibot's object and record schemas accept any `typeof x === 'object'` input, arrays included:
 * `[]` passes `v.object({ a: v.optional(v.string()) })` and `v.record(…)`. JSON from a caller or
 * GHES where an object is expected must be an object, so every schema parse of untrusted input
 * first asks `arrayInPlaceOfObject`, which walks the schema beside the input.
 */
import type { GenericSchema } from 'valibot';

const OBJECT_TYPES = new Set([
  'object',
  'strict_object',
  'loose_object',
  'object_with_rest',
  'record',
]);

interface Node {
  type: string;
  pipe?: Node[];
  wrapped?: Node;
  options?: Node[];
  item?: Node;
  entries?: Record<string, Node>;
  value?: Node;
  rest?: Node;
}

/** The path of the first array the schema expects an object in place of, or undefined. */
export function arrayInPlaceOfObject(
  schema: GenericSchema,
  input: unknown,
): (string | number)[] | undefined {
  return walk(schema as unknown as Node, input, []);
}

function walk(
  node: Node,
  input: unknown,
  path: (string | number)[],
): (string | number)[] | undefined {
  if (node.pipe !== undefined && node.pipe[0] !== undefined) return walk(node.pipe[0], input, path);
  if (node.wrapped !== undefined)
    return input == null ? undefined : walk(node.wrapped, input, path);
  if (typeof input !== 'object' || input === null) return undefined;
  if (node.options !== undefined) {
    // A union is wrong only if every option finds an array in place of an object.
    let first: (string | number)[] | undefined;
    for (const option of node.options) {
      const found = walk(option, input, path);
      if (found === undefined) return undefined;
      first ??= found;
    }
    return first;
  }
  if (node.type === 'array' && node.item !== undefined) {
    if (!Array.isArray(input)) return undefined;
    for (let i = 0; i < input.length; i++) {
      const found = walk(node.item, input[i], [...path, i]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!OBJECT_TYPES.has(node.type)) return undefined;
  if (Array.isArray(input)) return path;
  const record = input as Record<string, unknown>;
  if (node.entries !== undefined) {
    for (const [key, entry] of Object.entries(node.entries)) {
      if (!Object.hasOwn(record, key)) continue;
      const found = walk(entry, record[key], [...path, key]);
      if (found !== undefined) return found;
    }
  }
  const rest = node.type === 'record' ? node.value : node.rest;
  if (rest !== undefined) {
    for (const [key, value] of Object.entries(record)) {
      if (node.entries !== undefined && Object.hasOwn(node.entries, key)) continue;
      const found = walk(rest, value, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
