/**
 * src/lib/schema.ts: objects and records that refuse arrays (valibot's own take them), and issue
 * messages that never repeat the input.
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  object,
  record,
  shapeProblem,
  strictObject,
  unwrap,
  withoutValue,
} from '../../src/lib/schema';

describe('an array is not an object', () => {
  const optionalOnly = { a: v.optional(v.string()) };
  it.each([
    ['object', object(optionalOnly), v.object(optionalOnly), [[], ['x']]],
    ['strictObject', strictObject(optionalOnly), v.strictObject(optionalOnly), [[]]],
    ['record', record(v.string(), v.string()), v.record(v.string(), v.string()), [[], ['x']]],
  ])('%s refuses the arrays valibot’s own accepts', (_name, ours, theirs, arrays) => {
    for (const input of arrays) {
      expect(v.safeParse(theirs, input).success).toBe(true);
      const parsed = v.safeParse(ours, input);
      expect(parsed.success).toBe(false);
      expect(parsed.issues?.[0]?.path).toBeUndefined();
    }
    expect(v.safeParse(ours, { a: 'x' }).success).toBe(true);
  });

  it('keeps the strip and strict behaviour of object and strictObject', () => {
    const entries = { a: v.string() };
    expect(v.parse(object(entries), { a: 'x', b: 1 })).toStrictEqual({ a: 'x' });
    expect(v.safeParse(strictObject(entries), { a: 'x', b: 1 }).success).toBe(false);
  });
});

describe('withoutValue', () => {
  const SECRET = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';
  const schema = object({
    kind: v.picklist(['a', 'b']),
    name: v.pipe(v.string(), v.regex(/^[a-z]+$/)),
    count: v.pipe(v.number(), v.integer(), v.maxValue(3)),
    list: v.pipe(v.array(v.string()), v.minLength(1)),
    note: v.pipe(
      v.string(),
      v.check(() => false, 'is not a note'),
    ),
  });
  const messages = (input: unknown) =>
    (v.safeParse(schema, input, { message: withoutValue }).issues ?? []).map((i) => i.message);

  it('says what was expected, never what was sent', () => {
    const sent = { kind: SECRET, name: SECRET, count: 4.5, list: [], note: SECRET };
    expect(messages(sent)).toEqual([
      'Invalid option: expected ("a" | "b")',
      'Invalid format: expected /^[a-z]+$/',
      'Invalid integer',
      'Invalid value: expected <=3',
      'Invalid length: expected >=1',
      'is not a note',
    ]);
    expect(JSON.stringify(messages({ ...sent, count: SECRET }))).not.toContain(SECRET);
  });

  it('names a missing field and an unknown one by its path, not by its value', () => {
    expect(messages({})[0]).toBe('is required');
    const strict = strictObject({ a: v.string() });
    const parsed = v.safeParse(strict, { a: 'x', [SECRET]: SECRET }, { message: withoutValue });
    expect(parsed.issues?.map((i) => i.message)).toEqual(['is not a known field']);
  });
});

describe('shapeProblem: what a plain request schema lets through', () => {
  const schema = v.strictObject({
    a: v.optional(v.object({ b: v.optional(v.string()) })),
    list: v.optional(v.array(v.object({ c: v.optional(v.string()) }))),
    perms: v.optional(v.record(v.string(), v.string())),
    either: v.optional(v.union([v.object({ d: v.optional(v.string()) }), v.array(v.string())])),
  });

  it.each([
    [[], []],
    [{ a: [] }, ['a']],
    [{ list: [{}, []] }, ['list', 1]],
    [{ perms: ['read'] }, ['perms']],
  ])('%j: an array where an object belongs, at %j', (input, path) => {
    expect(shapeProblem(schema, input)).toEqual({ path, message: 'must be an object' });
    // valibot alone takes it.
    expect(v.safeParse(schema, input).success).toBe(true);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'a record key %s valibot would drop',
    (key) => {
      const input = JSON.parse(`{"perms": {"${key}": "write"}}`) as unknown;
      expect(shapeProblem(schema, input)).toEqual({
        path: ['perms', key],
        message: 'is not an accepted key',
      });
    },
  );

  it('accepts what is well-shaped, and an array where a union allows one', () => {
    expect(shapeProblem(schema, { a: {}, list: [{}], perms: { x: 'y' }, either: ['z'] })).toBe(
      undefined,
    );
    expect(shapeProblem(schema, { either: {} })).toBe(undefined);
  });
});

describe('unwrap', () => {
  it('reaches the schema under pipes and optional, nullable and nullish wrappers', () => {
    const inner = v.array(v.string());
    const wrapped = v.optional(
      v.nullable(v.pipe(v.nullish(v.pipe(inner, v.maxLength(3))), v.description('x'))),
    );
    expect(unwrap(wrapped)).toBe(inner);
    const plain = v.object({});
    expect(unwrap(plain)).toBe(plain);
  });
});
