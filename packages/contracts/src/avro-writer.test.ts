import avsc from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { avroType } from './avro.ts';
import { type AvroWriter, compileWriter } from './avro-writer.ts';
import { eventArb } from './arbitraries.ts';
import { DIMENSIONS } from './events.ts';
import { REFUSED } from './refused.ts';
import { ALL_TOPICS } from './topics.ts';

const CHANGES = 'crm.segment-changes.v1';
const changeType = avroType(CHANGES);

function mustCompile(type: avsc.Type): AvroWriter {
  const write = compileWriter(type);
  if (write === null) throw new Error(`${type.name} does not compile`);
  return write;
}

/** The writer's bytes for `value`, or REFUSED. */
function written(write: AvroWriter, value: unknown): Buffer | typeof REFUSED {
  const buf = Buffer.alloc(64 * 1024);
  const end = write(buf, 0, value);
  return end === REFUSED ? REFUSED : buf.subarray(0, end);
}

/** avsc's bytes for `value`, or the error it throws. */
function reference(type: avsc.Type, value: unknown): Buffer | Error {
  try {
    return type.toBuffer(value);
  } catch (err) {
    return err as Error;
  }
}

/**
 * Strings the way avsc's writer must see them: ASCII, any Unicode (2-, 3- and 4-byte UTF-8),
 * lone surrogates (UTF-16 code units), empty, and both sides of avsc's 64-byte switch from its
 * own loop to Buffer's UTF-8 writer.
 */
const anyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 60, maxLength: 70 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udc00'), minLength: 15, maxLength: 70 }),
  fc.string({ minLength: 60, maxLength: 300 }),
);
const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> =>
  fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(undefined) });
const int32 = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 63, 64, -64, -65, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 31 - 1, -(2 ** 31)),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);

/** Change events as a caller could hand them over: any strings, nulls, absent nullable fields. */
const changeArb = fc.record({
  specversion: fc.constantFrom('1.0', ''),
  id: anyString,
  source: anyString,
  type: fc.constantFrom('crm.segment.changed', 'crm.ségment.changed'),
  time: anyString,
  subject: anyString,
  data: fc.record({
    dimension: fc.constantFrom(...DIMENSIONS),
    segment: nullable(anyString),
    from: nullable(anyString),
    to: nullable(anyString),
    reason: anyString,
    cause: fc.record({
      kind: fc.constantFrom('event', 'timer', 'rescore'),
      topic: nullable(anyString),
      partition: nullable(int32),
      offset: nullable(anyString),
      eventId: nullable(anyString),
      dueAt: nullable(anyString),
    }),
  }),
});

type Change = typeof changeArb extends fc.Arbitrary<infer T> ? T : never;

/** What avsc decodes a change back into: an absent nullable field is null, -0 is 0. */
function withNulls(event: Change): unknown {
  const n = <T>(x: T | null | undefined): T | null => (x === undefined ? null : x);
  const { data } = event;
  const { cause } = data;
  return {
    ...event,
    data: {
      ...data,
      segment: n(data.segment),
      from: n(data.from),
      to: n(data.to),
      cause: {
        ...cause,
        topic: n(cause.topic),
        partition: cause.partition == null ? null : cause.partition + 0, // -0 reads back as 0
        offset: n(cause.offset),
        eventId: n(cause.eventId),
        dueAt: n(cause.dueAt),
      },
    },
  };
}

describe('compileWriter', () => {
  it('compiles the segment-change schema, and refuses a schema with an array (the dead-letter one) or a recursive record', () => {
    expect(compileWriter(changeType)).not.toBeNull();
    expect(compileWriter(avroType('crm.dead-letter.v1'))).toBeNull();
    const list = avsc.Type.forSchema({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] });
    expect(compileWriter(list)).toBeNull();
    for (const schema of [
      { type: 'record', name: 'A', fields: [{ name: 'x', type: 'double' }] },
      { type: 'record', name: 'B', fields: [{ name: 'x', type: ['null', 'string', 'int'] }] },
      { type: 'record', name: 'C', fields: [{ name: 'x', type: { type: 'map', values: 'string' } }] },
      { type: 'record', name: 'D', fields: [{ name: 'x', type: 'bytes' }] },
    ]) {
      expect(compileWriter(avsc.Type.forSchema(schema as avsc.Schema))).toBeNull();
    }
  });

  it('writes what avsc writes for every valid event of every topic it compiles', () => {
    const compiled = ALL_TOPICS.filter((topic) => compileWriter(avroType(topic)) !== null);
    expect(compiled).toContain(CHANGES);
    for (const topic of compiled) {
      const type = avroType(topic);
      const write = mustCompile(type);
      fc.assert(
        fc.property(eventArb(topic), (event) => {
          expect(written(write, event)).toEqual(type.toBuffer(event));
        }),
        { numRuns: 300 },
      );
    }
  });
});

describe('the segment-change writer', () => {
  const write = mustCompile(changeType);

  it('writes the bytes avsc writes, and avsc reads the event back', () => {
    fc.assert(
      fc.property(changeArb, (event) => {
        const bytes = written(write, event);
        expect(bytes).not.toBe(REFUSED);
        expect(bytes).toEqual(changeType.toBuffer(event));
        // UTF-8 cannot carry a lone surrogate: only well-formed strings read back as written.
        if (JSON.stringify(event) === JSON.stringify(event, (_, x) => (typeof x === 'string' ? x.toWellFormed() : x))) {
          expect(changeType.fromBuffer(bytes as Buffer)).toEqual(withNulls(event));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what avsc refuses, and writes avsc bytes for whatever it does not refuse', () => {
    const wrong = fc.oneof(
      fc.constantFrom(undefined, null, 1.5, Number.NaN, 2 ** 31, -(2 ** 31) - 1, 'x', true, [], {}, Buffer.from('a')),
      fc.string(),
      fc.integer(),
    );
    const paths = [
      ['id'],
      ['specversion'],
      ['data'],
      ['data', 'dimension'],
      ['data', 'segment'],
      ['data', 'reason'],
      ['data', 'cause'],
      ['data', 'cause', 'kind'],
      ['data', 'cause', 'partition'],
      ['data', 'cause', 'dueAt'],
    ];
    fc.assert(
      fc.property(changeArb, fc.constantFrom(...paths), wrong, (event, path, value) => {
        const broken = structuredClone(event) as Record<string, unknown>;
        let node = broken;
        for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
        node[path.at(-1) as string] = value;
        const expected = reference(changeType, broken);
        const bytes = written(write, broken);
        if (expected instanceof Error) expect(bytes).toBe(REFUSED);
        else if (bytes !== REFUSED) expect(bytes).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
    expect(written(write, null)).toBe(REFUSED);
    expect(written(write, 'event')).toBe(REFUSED);
  });

  it('into a buffer too short: says how long the value is, writes nothing past the end, then the same bytes into one that fits', () => {
    fc.assert(
      fc.property(changeArb, fc.nat(), (event, cut) => {
        const expected = changeType.toBuffer(event);
        const length = cut % expected.length;
        const backing = Buffer.alloc(expected.length + 8, 0xaa);
        const short = backing.subarray(0, length);
        expect(write(short, 0, event)).toBe(expected.length);
        expect(backing.subarray(length).every((b) => b === 0xaa)).toBe(true);
        const fits = Buffer.alloc(expected.length + 3);
        expect(write(fits, 3, event)).toBe(expected.length + 3);
        expect(fits.subarray(3)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('a writer for every shape it compiles', () => {
  const type = avsc.Type.forSchema({
    type: 'record',
    name: 'Shapes',
    fields: [
      { name: 'i', type: 'int' },
      { name: 'l', type: 'long' },
      { name: 'b', type: 'boolean' },
      { name: 'n', type: 'null' },
      { name: 'e', type: { type: 'enum', name: 'E', symbols: ['a', 'b', 'c'] } },
      { name: 'late', type: ['long', 'null'] },
      { name: 'named', type: ['null', 'E'], default: null },
      { name: 'withDefault', type: 'string', default: 'fallback ✓' },
      { name: 'intDefault', type: 'int', default: -7 },
      { name: 'nested', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'flag', type: ['null', 'boolean'], default: null }] }] },
      { name: 'again', type: 'Inner' },
    ],
  });
  const write = mustCompile(type);
  const safe = 9007199254740990;
  const long = fc.oneof(
    fc.constantFrom(0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 52 + 1, safe, -safe, 1e15, -1e15),
    fc.integer({ min: -safe, max: safe }),
    fc.double({ min: -safe, max: safe, noNaN: true }).map(Math.trunc),
  );
  const shapes = fc.record(
    {
      i: int32,
      l: long,
      b: fc.boolean(),
      n: fc.constant(null),
      e: fc.constantFrom('a', 'b', 'c'),
      late: fc.option(long, { nil: null }),
      named: nullable(fc.constantFrom('a', 'c')),
      withDefault: fc.option(anyString, { nil: undefined }),
      intDefault: fc.option(int32, { nil: undefined }),
      nested: fc.option(fc.record({ flag: nullable(fc.boolean()) }, { requiredKeys: [] }), { nil: null }),
      again: fc.record({ flag: nullable(fc.boolean()) }, { requiredKeys: [] }),
    },
    { requiredKeys: ['i', 'l', 'b', 'n', 'e', 'late', 'nested', 'again'] },
  );

  it('writes the bytes avsc writes', () => {
    fc.assert(
      fc.property(shapes, (value) => {
        expect(written(write, value)).toEqual(type.toBuffer(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a long avsc refuses, an int out of range, an array or a buffer for a record', () => {
    const base = { i: 0, l: 0, b: true, n: null, e: 'a', late: null, nested: null, again: {} };
    for (const [field, value] of [
      ['l', safe + 1],
      ['l', 0.5],
      ['late', Number.POSITIVE_INFINITY],
      ['i', 2 ** 31],
      ['i', '1'],
      ['b', 1],
      ['n', undefined],
      ['e', 'toString'],
      ['named', 'z'],
      ['nested', []],
      ['again', Buffer.alloc(0)],
    ] as const) {
      const value2 = { ...base, [field]: value };
      expect(written(write, value2), `${field} = ${String(value)}`).toBe(REFUSED);
    }
    expect(written(write, base)).toEqual(type.toBuffer(base));
  });
});
