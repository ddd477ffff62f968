/**
 * A fast path in front of zod's safeParse for the event contracts: a plain function per
 * schema, compiled once from the zod schema's own definition (so the contracts stay the one
 * source of truth), that returns exactly what safeParse's `data` would be, or REFUSED.
 *
 * zod's generic machinery (a payload object and an issue list per field, a check runner per
 * string) cost about 1.5 µs of the segmenter's ~35 µs per event, for events that almost always
 * pass. The fast path only ever says "passes, and here is zod's output"; whenever it refuses,
 * the caller asks zod, which finds the issues and words the error as it always did. So a
 * refusal too many only costs time, an acceptance too many would be a bug: fast-parse.test.ts
 * proves on generated and mutated events that both answer alike.
 *
 * Only what the contracts use compiles: objects (stripping unknown keys, as z.object does),
 * strings with length, regex and refine checks, finite numbers with safe-integer and range
 * checks, booleans, literals, enums of strings, nullable, default, arrays. Anything else (a
 * transform, a coercion, another check or format) makes compileParser return null: zod alone.
 */
import type { z } from 'zod';
import { REFUSED } from './refused.ts';

/** safeParse's `data` for `input`, or REFUSED. */
export type FastParse = (input: unknown) => unknown;

/** The parser of `schema`, or null when the schema uses something the fast path does not mirror. */
export function compileParser(schema: z.ZodType): FastParse | null {
  return compile(schema as unknown as Schema);
}

/** The parts of a zod 4 schema's definition (`schema._zod.def`, zod's introspection API) read here. */
interface Schema {
  _zod: { def: Def; traits: Set<string> };
}
interface Def {
  type: string;
  checks?: readonly Check[];
  coerce?: boolean;
  format?: string;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  element?: Schema;
  innerType?: Schema;
  defaultValue?: unknown;
  values?: readonly unknown[];
  entries?: Record<string, unknown>;
}
interface Check {
  _zod: { def: CheckDef };
}
interface CheckDef {
  check: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: RegExp;
  fn?: (input: unknown) => unknown;
  value?: unknown;
  inclusive?: boolean;
}

type Test<T> = (x: T) => boolean;

function compile(schema: Schema): FastParse | null {
  const def = schema._zod.def;
  // A schema that is its own check (z.int(), z.email(), ...) runs checks its def does not list.
  if (schema._zod.traits.has('$ZodCheck') || def.coerce === true || def.format !== undefined) return null;
  // Checks (refinements) are mirrored on strings and numbers only.
  if (def.type !== 'string' && def.type !== 'number' && def.checks !== undefined && def.checks.length > 0) return null;
  switch (def.type) {
    case 'string': {
      const test = allOf<string>(def.checks, stringCheck);
      return test && ((x) => (typeof x === 'string' && test(x) ? x : REFUSED));
    }
    case 'number': {
      const test = allOf<number>(def.checks, numberCheck);
      return test && ((x) => (typeof x === 'number' && Number.isFinite(x) && test(x) ? x : REFUSED));
    }
    case 'boolean':
      return (x) => (typeof x === 'boolean' ? x : REFUSED);
    case 'literal':
    case 'enum': {
      const values = def.type === 'literal' ? def.values : Object.values(def.entries ?? {});
      // Strings only: numeric TS enums and an `undefined` literal have rules of their own.
      if (values === undefined || !values.every((v) => typeof v === 'string')) return null;
      const allowed = new Set<unknown>(values);
      return (x) => (allowed.has(x) ? x : REFUSED);
    }
    case 'nullable': {
      const inner = def.innerType === undefined ? null : compile(def.innerType);
      return inner && ((x) => (x === null ? null : inner(x)));
    }
    case 'default': {
      const inner = def.innerType === undefined ? null : compile(def.innerType);
      // Read on each use, as zod does: `defaultValue` is a getter (calling a default function).
      return inner && ((x) => (x === undefined ? plainDefault(def.defaultValue) : inner(x)));
    }
    case 'array': {
      const element = def.element === undefined ? null : compile(def.element);
      return element && ((x) => arrayOf(element, x));
    }
    case 'object':
      return def.catchall === undefined && def.shape !== undefined ? objectParser(def.shape) : null;
    default:
      return null;
  }
}

/** One test for all of `checks`, or null when one of them is not mirrored. */
function allOf<T>(checks: readonly Check[] | undefined, mirror: (c: CheckDef) => Test<T> | null): Test<T> | null {
  const tests: Test<T>[] = [];
  for (const check of checks ?? []) {
    const test = mirror(check._zod.def);
    if (test === null) return null;
    tests.push(test);
  }
  return (x) => {
    for (const test of tests) if (!test(x)) return false;
    return true;
  };
}

function stringCheck(c: CheckDef): Test<string> | null {
  const { minimum, maximum, pattern, fn } = c;
  switch (c.check) {
    case 'min_length':
      return typeof minimum === 'number' ? (s) => s.length >= minimum : null;
    case 'max_length':
      return typeof maximum === 'number' ? (s) => s.length <= maximum : null;
    case 'string_format':
      // zod resets lastIndex too, so a global regex tests every string from its start.
      return c.format === 'regex' && pattern instanceof RegExp
        ? (s) => {
            pattern.lastIndex = 0;
            return pattern.test(s);
          }
        : null;
    case 'custom':
      // A refinement; zod passes any truthy result, the fast path only `true` (the rest goes to zod).
      return typeof fn === 'function' ? (s) => fn(s) === true : null;
    default:
      return null;
  }
}

function numberCheck(c: CheckDef): Test<number> | null {
  const { value } = c;
  switch (c.check) {
    case 'number_format':
      return c.format === 'safeint' ? Number.isSafeInteger : null;
    case 'greater_than':
      if (typeof value !== 'number') return null;
      return c.inclusive === true ? (n) => n >= value : (n) => n > value;
    case 'less_than':
      if (typeof value !== 'number') return null;
      return c.inclusive === true ? (n) => n <= value : (n) => n < value;
    default:
      return null;
  }
}

/** A default handed out as is; an object or array one zod copies, so zod gives it. */
function plainDefault(v: unknown): unknown {
  return v === null || (typeof v !== 'object' && typeof v !== 'function' && v !== undefined) ? v : REFUSED;
}

function arrayOf(element: FastParse, x: unknown): unknown {
  if (!Array.isArray(x)) return REFUSED;
  const out: unknown[] = new Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = element(x[i]);
    if (v === REFUSED) return REFUSED;
    out[i] = v;
  }
  return out;
}

/**
 * z.object's parse: a fresh plain object with the shape's keys in the shape's order, unknown
 * keys left out. No compiled field accepts `undefined` unless it has a default (literals and
 * enums are strings), so an absent key is refused exactly when zod refuses it.
 *
 * Generated as code, as zod's own JIT does: reading and writing each field by its name, and
 * building the output as one object literal, is about twice as fast as a loop over the keys
 * (whose property accesses V8 cannot specialize). The keys enter the code only as JSON strings.
 */
function objectParser(shape: Record<string, Schema>): FastParse | null {
  const keys = Object.keys(shape);
  if (keys.includes('__proto__') || Object.getOwnPropertySymbols(shape).length > 0) return null;
  const fields: FastParse[] = [];
  for (const key of keys) {
    const field = compile(shape[key] as Schema);
    if (field === null) return null;
    fields.push(field);
  }
  const name = keys.map((key) => JSON.stringify(key));
  const code = [
    ...keys.map((_, i) => `const f${i} = fields[${i}];`),
    'return (x) => {',
    '  if (typeof x !== "object" || x === null || Array.isArray(x)) return REFUSED;',
    ...keys.map((_, i) => `  const v${i} = f${i}(x[${name[i]}]); if (v${i} === REFUSED) return REFUSED;`),
    `  return { ${keys.map((_, i) => `${name[i]}: v${i}`).join(', ')} };`,
    '};',
  ].join('\n');
  return new Function('fields', 'REFUSED', code)(fields, REFUSED) as FastParse;
}
