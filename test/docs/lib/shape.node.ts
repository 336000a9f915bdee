/**
 * A small structural checker for proxy configs parsed from YAML: each object lists the keys its
 * proxy documents, so a misspelt or invented key is an error naming its path. Shapes are written
 * in test/docs/lib/proxy-schemas.node.ts, each citing the page that documents it.
 */

export type Shape =
  | { t: 'string' }
  | { t: 'number' }
  | { t: 'boolean' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'list'; of: Shape }
  /** Documented keys only; `required` must be present. */
  | { t: 'object'; fields: Readonly<Record<string, Shape>>; required?: readonly string[] }
  /** Keys the operator names (middleware names, header names …), each value of one shape. */
  | { t: 'map'; of: Shape }
  | /** One of several objects, picked by the string at `key` (Envoy's `@type`, Kong's plugin `name`). */
    { t: 'tagged'; key: string; types: Readonly<Record<string, Shape>> };

export const str: Shape = { t: 'string' };
export const num: Shape = { t: 'number' };
export const bool: Shape = { t: 'boolean' };
export const list = (of: Shape): Shape => ({ t: 'list', of });
export const map = (of: Shape): Shape => ({ t: 'map', of });
export const oneOfValues = (...values: string[]): Shape => ({ t: 'enum', values });
export const tagged = (key: string, types: Record<string, Shape>): Shape => ({
  t: 'tagged',
  key,
  types,
});
export const obj = (fields: Record<string, Shape>, required: string[] = []): Shape => ({
  t: 'object',
  fields,
  required,
});

export interface CheckResult {
  errors: string[];
  /** Paths of every key that was checked against a list of documented keys. */
  strictKeys: string[][];
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value;
}

export function checkShape(shape: Shape, value: unknown): CheckResult {
  const result: CheckResult = { errors: [], strictKeys: [] };
  walk(shape, value, [], result);
  return result;
}

function walk(shape: Shape, value: unknown, path: string[], out: CheckResult): void {
  const at = path.length === 0 ? '(root)' : path.join('.');
  const fail = (why: string): void => {
    out.errors.push(`${at}: ${why}`);
  };
  switch (shape.t) {
    case 'string':
      if (typeof value !== 'string') fail(`expected a string, found ${typeOf(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number') fail(`expected a number, found ${typeOf(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`expected a boolean, found ${typeOf(value)}`);
      return;
    case 'enum':
      if (typeof value !== 'string' || !shape.values.includes(value))
        fail(`expected one of ${shape.values.join(', ')}, found ${JSON.stringify(value)}`);
      return;
    case 'list':
      if (!Array.isArray(value)) return fail(`expected a list, found ${typeOf(value)}`);
      value.forEach((item, i) => walk(shape.of, item, [...path, String(i)], out));
      return;
    case 'map':
      if (typeOf(value) !== 'object') return fail(`expected a mapping, found ${typeOf(value)}`);
      for (const [key, item] of Object.entries(value as object))
        walk(shape.of, item, [...path, key], out);
      return;
    case 'object':
    case 'tagged': {
      if (typeOf(value) !== 'object') return fail(`expected a mapping, found ${typeOf(value)}`);
      const record = value as Record<string, unknown>;
      let fields: Readonly<Record<string, Shape>>;
      let required: readonly string[] = [];
      if (shape.t === 'tagged') {
        const tag = record[shape.key];
        const message = typeof tag === 'string' ? shape.types[tag] : undefined;
        if (message === undefined || message.t !== 'object')
          return fail(
            `${shape.key} ${JSON.stringify(tag)} is not one of ${Object.keys(shape.types).join(', ')}`,
          );
        fields = { [shape.key]: str, ...message.fields };
        required = message.required ?? [];
      } else {
        fields = shape.fields;
        required = shape.required ?? [];
      }
      for (const key of required) if (!(key in record)) fail(`missing required key "${key}"`);
      for (const [key, item] of Object.entries(record)) {
        out.strictKeys.push([...path, key]);
        const field = fields[key];
        if (field === undefined) {
          fail(`unknown key "${key}" (documented: ${Object.keys(fields).join(', ')})`);
          continue;
        }
        walk(field, item, [...path, key], out);
      }
      return;
    }
  }
}

/** A deep copy of `value` with the key at `path` renamed to `to`. */
export function renameKey(value: unknown, path: readonly string[], to: string): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string, unknown>;
  const last = path[path.length - 1] as string;
  const renamed: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(node)) renamed[key === last ? to : key] = item;
  for (const key of Object.keys(node)) delete node[key];
  Object.assign(node, renamed);
  return copy;
}
