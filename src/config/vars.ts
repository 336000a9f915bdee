/**
 * How a Worker var arrives and what the schema makes of it: a TOML value or a string, `''` as
 * unset, JSON for the tables. Pieces for src/config/schema.ts.
 */
import * as v from 'valibot';
import { jsonObject } from '../lib/schema';
import { RATE_LIMIT_PERIODS } from './types';

/** Vars may be given as TOML tables (already objects) or as JSON strings (dashboard, .dev.vars). */
export function json<T extends v.GenericSchema>(schema: T) {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      if (typeof dataset.value !== 'string') return dataset.value;
      try {
        return JSON.parse(dataset.value) as unknown;
      } catch {
        addIssue({ message: 'is not valid JSON' });
        return NEVER;
      }
    }),
    schema,
  );
}

/**
 * `''` → unset, before defaults apply: wrangler environments repeat every var, and an empty
 * one must never coerce to 0. A var left out takes the same path: valibot's object() runs an
 * entry's schema for a missing key only when it has a default (here `''`).
 */
export function blankIsUnset<T extends v.GenericSchema>(schema: T) {
  return v.optional(
    v.pipe(
      v.unknown(),
      v.transform((value) => (value === '' ? undefined : value)),
      schema,
    ),
    '',
  );
}

export function optional<T extends v.GenericSchema>(schema: T) {
  return blankIsUnset(v.optional(schema));
}

/** A number var: TOML gives a number, the dashboard and JSON strings give text. */
const number = v.pipe(v.unknown(), v.transform(Number));

export function intVar(def: number, min: number, max: number) {
  return blankIsUnset(
    v.optional(v.pipe(number, v.number(), v.integer(), v.minValue(min), v.maxValue(max)), def),
  );
}

/** A rate-limiting binding's period; it must equal the binding's, as it is sent as Retry-After. */
export function periodVar() {
  const message = 'must be 10 or 60, the period of the rate-limiting binding';
  return blankIsUnset(v.optional(v.pipe(number, v.picklist(RATE_LIMIT_PERIODS, message)), 60));
}

/** A list that is set must say something: remove the field to allow any. */
export function list<T extends v.GenericSchema>(item: T) {
  return v.pipe(v.array(item), v.minLength(1));
}

const RESERVED_KEYS = ['__proto__', 'prototype', 'constructor'];

/**
 * A table keyed by names the operator chose (callers, identities, permissions). valibot's
 * record drops these three keys (prototype pollution); a config naming one is refused instead,
 * so that nothing configured vanishes unnoticed.
 */
export function table<K extends v.GenericSchema<string, string>, V extends v.GenericSchema>(
  key: K,
  value: V,
) {
  return v.pipe(
    jsonObject,
    v.check(
      (o) => !RESERVED_KEYS.some((k) => Object.hasOwn(o, k)),
      'cannot use "__proto__", "prototype" or "constructor" as a key',
    ),
    v.record(key, value),
  );
}
