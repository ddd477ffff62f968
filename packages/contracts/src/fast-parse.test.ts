/**
 * The fast path says what zod says: on generated events (as JSON would give them and as Avro
 * decodes them) and on mutations of them, it accepts exactly what zod's safeParse accepts, with
 * the same output, and refuses the rest (for which zod then words the error).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { avroType } from './avro.ts';
import { compileParser, type FastParse } from './fast-parse.ts';
import { REFUSED } from './refused.ts';
import { eventArb } from './testing.ts';
import { ALL_TOPICS, EVENT_SCHEMAS, EVENT_TYPES, type Topic } from './topics.ts';

const RUNS = 300;

function parserOf(topic: Topic): FastParse {
  const parse = compileParser(EVENT_SCHEMAS[topic]);
  if (parse === null) throw new Error(`${topic}: no fast path`);
  return parse;
}

function expectAgreement(topic: Topic, input: unknown): void {
  expectSameAs(EVENT_SCHEMAS[topic], parserOf(topic), input);
}

function expectSameAs(schema: z.ZodType, parse: FastParse, input: unknown): void {
  const zod = schema.safeParse(input);
  const fast = parse(input);
  expect(fast !== REFUSED, zod.success ? 'zod accepts' : `zod refuses: ${zod.error.issues[0]?.message}`).toBe(zod.success);
  if (!zod.success) return;
  expect(fast).toStrictEqual(zod.data);
  // Same keys in the same order, too.
  expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
}

/** Values at and around every rule's edges, of every type. */
const edgeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    undefined,
    null,
    true,
    false,
    [],
    {},
    '',
    'x',
    '1.0',
    '12',
    '-1',
    'EUR',
    'eur',
    'c'.repeat(128),
    'c'.repeat(129),
    'w'.repeat(256),
    'w'.repeat(257),
    'w'.repeat(512),
    'w'.repeat(513),
    'w'.repeat(4096),
    'w'.repeat(4097),
    'a'.repeat(64),
    'A'.repeat(64),
    '2026-01-31T12:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-01-31T12:00:00.123456789Z',
    `2026-01-31T12:00:00.${'0'.repeat(30)}Z`,
    'phone',
    'complaint',
    'escalated',
    'rfm_segment',
    'timer',
    ...ALL_TOPICS.flatMap((t) => EVENT_TYPES[t]),
    -1,
    -0,
    0,
    1,
    1.5,
    5,
    6,
    10,
    11,
    100_000,
    100_001,
    604_800,
    604_801,
    1e12,
    1e12 + 1,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ),
);

/** Every path to a value inside `x` (object keys and array indexes, as strings). */
function paths(x: unknown, at: string[] = []): string[][] {
  if (typeof x !== 'object' || x === null) return [];
  const out: string[][] = [];
  for (const [k, v] of Object.entries(x)) {
    const p = [...at, k];
    out.push(p, ...paths(v, p));
  }
  return out;
}

type Mutation = { pick: number; kind: 'set' | 'delete' | 'extra'; value: unknown };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({ pick: fc.nat(), kind: fc.constantFrom('set', 'delete', 'extra'), value: edgeValue });

/** A deep copy of `event` with `mutations` applied (each at a path picked among the copy's). */
function mutate(event: unknown, mutations: readonly Mutation[]): unknown {
  const copy = structuredClone(event) as Record<string, unknown>;
  for (const { pick, kind, value } of mutations) {
    const all = paths(copy);
    const path = all[pick % Math.max(all.length, 1)] ?? [];
    const key = path.at(-1);
    let parent: Record<string, unknown> = copy;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
    if (key === undefined || kind === 'extra') {
      const target = key === undefined ? copy : parent[key];
      if (typeof target === 'object' && target !== null) (target as Record<string, unknown>)['extra'] = value;
    } else if (kind === 'delete') delete parent[key];
    else parent[key] = value;
  }
  return copy;
}

describe('compileParser', () => {
  it('compiles every contract', () => {
    for (const topic of ALL_TOPICS) expect(compileParser(EVENT_SCHEMAS[topic]), topic).not.toBeNull();
  });

  it('declines schemas that use what it does not mirror, leaving them to zod', () => {
    const declined = [
      z.email(),
      z.int(),
      z.string().trim(),
      z.string().transform((s) => s.length),
      z.coerce.number(),
      z.number().multipleOf(2),
      z.strictObject({ a: z.string() }),
      z.object({ a: z.string() }).refine(() => true),
      z.object({ a: z.string().optional() }),
      z.union([z.string(), z.number()]),
    ];
    for (const schema of declined) expect(compileParser(schema)).toBeNull();
  });

  it.each(ALL_TOPICS)('%s: accepts what zod accepts, with the same output', (topic) => {
    fc.assert(
      fc.property(eventArb(topic), (event) => {
        expectAgreement(topic, event);
        // As Avro decodes it: a record class per type, fields filled from the schema.
        expectAgreement(topic, avroType(topic).fromBuffer(avroType(topic).toBuffer(event)));
      }),
      { numRuns: RUNS },
    );
  });

  it.each(ALL_TOPICS)('%s: refuses what zod refuses, on mutated events', (topic) => {
    fc.assert(
      fc.property(eventArb(topic), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (event, mutations) => {
        expectAgreement(topic, mutate(event, mutations));
      }),
      { numRuns: 3 * RUNS },
    );
  });

  it('mirrors each rule it compiles, beyond what the contracts combine', () => {
    const schemas = [
      z.number(),
      z.number().gt(0).lt(1),
      z.number().min(-1).max(1),
      z.string().regex(/ab/g),
      z.string().min(2).max(3),
      z.literal(['x', 'y']),
      z.enum(['a', 'b']),
      z.boolean().nullable().default(null),
      z.number().default(7),
      z.number().default(() => 8),
      z.array(z.number().int()),
      z.object({ a: z.string(), b: z.object({ c: z.number().nullable() }) }),
      z.object({ '': z.string(), 'a"b\\\n': z.number(), '1': z.boolean(), constructor: z.string() }),
    ];
    for (const schema of schemas) {
      const parse = compileParser(schema);
      expect(parse).not.toBeNull();
      fc.assert(
        fc.property(edgeValue, (x) => expectSameAs(schema, parse as FastParse, x)),
        { numRuns: RUNS },
      );
      for (const x of [
        0,
        0.5,
        1,
        -1,
        2,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        'ab',
        'xab',
        'abab',
        'x',
        'a',
        undefined,
        null,
        [1, 2],
        [1.5],
        { a: 'x', b: { c: null } },
        { '': 'x', 'a"b\\\n': 1, '1': true, constructor: 'c' },
      ]) {
        expectSameAs(schema, parse as FastParse, x);
      }
    }
  });

  it('leaves a default zod must copy (an object or array) to zod', () => {
    const parse = compileParser(z.array(z.number()).default([]));
    expect(parse?.(undefined)).toBe(REFUSED);
    expect(parse?.([1, 2])).toEqual([1, 2]);
  });

  it('refuses what is not an object at all', () => {
    for (const topic of ALL_TOPICS) for (const input of [null, undefined, 'x', 1, [], [{}]]) expectAgreement(topic, input);
  });
});
