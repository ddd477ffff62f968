/**
 * Proves that the Avro schemas in /schemas (the source of truth) and the zod contracts in
 * events.ts agree: on their structure, on the example events (valid and broken), and on
 * generated events and mutations of them.
 *
 * Avro cannot express some zod rules; those are "zod only" (see serde.ts for the list): string
 * lengths, time/currency/offset formats, number ranges, the specversion/type literals, and the
 * presence of nullable fields. For them the test asserts that Avro alone accepts the event and
 * that the combined decoder (Avro decode, then zod) rejects it, naming the field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AvroRecordSchema, avroType, loadAvroSchema, SCHEMA_DIR } from './avro.ts';
import { DECODE_REASONS, type DecodeReason } from './errors.ts';
import { decodeInput } from './serde.ts';
import { encodeWireFormat, eventArb, MemoryRegistry, orderEventArb, topicEventArb } from './testing.ts';
import { ALL_TOPICS, EVENT_SCHEMAS, EVENT_TYPES, type Topic, isTopic, topicOfType } from './topics.ts';
import { registerSchemas } from './registry.ts';

const EXAMPLES = new URL('examples/', SCHEMA_DIR);
const INVALID = new URL('invalid/', EXAMPLES);
/** Property runs per property (the brief asks for >= 200). */
const RUNS = 300;

const readJson = (url: URL): unknown => JSON.parse(readFileSync(url, 'utf8'));
const json = (x: unknown): Buffer => Buffer.from(JSON.stringify(x));

const registry = new MemoryRegistry();
let schemaIds: Record<Topic, number>;
beforeAll(async () => {
  schemaIds = await registerSchemas(registry);
});

/** Avro-encodes `event` with the topic's own schema, ignoring zod: what a producer with only the .avsc would send. */
function avroWire(topic: Topic, event: unknown): Buffer {
  return encodeWireFormat(schemaIds[topic], avroType(topic).toBuffer(event));
}

// ------------------------------------------------------------------------------------ structure

/** Record fields sorted by name: field order is Avro's binary layout, not part of the agreement. */
function byName(fields: [string, unknown][]): [string, unknown][] {
  return fields.sort(([a], [b]) => a.localeCompare(b));
}

/** A comparable description of a zod schema: the shape Avro would have to give it. */
function zodShape(s: z.ZodType): unknown {
  if (s instanceof z.ZodNullable) return { nullable: zodShape(s.unwrap() as z.ZodType) };
  // A field added to a released contract: nullable with a null default (JSON written before it
  // omits it), as its Avro field defaults to null.
  if (s instanceof z.ZodDefault) return s.def.defaultValue === null ? zodShape(s.unwrap() as z.ZodType) : 'unsupported non-null default';
  if (s instanceof z.ZodObject) return { record: byName(Object.entries(s.shape as Record<string, z.ZodType>).map(([k, v]) => [k, zodShape(v)])) };
  if (s instanceof z.ZodArray) return { array: zodShape(s.element as z.ZodType) };
  if (s instanceof z.ZodEnum) {
    const values = s.options as string[];
    // Avro enum symbols are [A-Za-z_][A-Za-z0-9_]*: dotted CloudEvents types can only be strings.
    return values.every((v) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) ? { enum: values } : 'string';
  }
  if (s instanceof z.ZodLiteral) return typeof s.value === 'string' ? 'string' : 'unsupported';
  if (s instanceof z.ZodString) return 'string';
  if (s instanceof z.ZodNumber) return s.isInt ? 'integer' : 'number';
  if (s instanceof z.ZodBoolean) return 'boolean';
  return `unsupported zod type ${s.constructor.name}`;
}

/** The same description of an Avro schema. */
function avroShape(t: unknown): unknown {
  if (Array.isArray(t)) {
    const [first, second, ...rest] = t as unknown[];
    return first === 'null' && second !== undefined && rest.length === 0 ? { nullable: avroShape(second) } : 'unsupported union';
  }
  if (typeof t === 'string') {
    if (t === 'int' || t === 'long') return 'integer';
    if (t === 'string' || t === 'boolean') return t;
    return `unsupported avro type ${t}`;
  }
  const o = t as { type: string; fields?: AvroRecordSchema['fields']; symbols?: string[]; items?: unknown };
  if (o.type === 'record') return { record: byName((o.fields ?? []).map((f) => [f.name, avroShape(f.type)])) };
  if (o.type === 'enum') return { enum: o.symbols };
  if (o.type === 'array') return { array: avroShape(o.items) };
  return avroShape(o.type);
}

function nullableFieldsWithoutNullDefault(t: unknown, path = ''): string[] {
  const o = t as { type?: unknown; fields?: AvroRecordSchema['fields']; items?: unknown };
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [];
  if (o.type === 'array') return nullableFieldsWithoutNullDefault(o.items, path);
  return (o.fields ?? []).flatMap((f) => {
    const here = `${path}${f.name}`;
    const own = Array.isArray(f.type) && f.type[0] === 'null' && f.default !== null ? [here] : [];
    const inner = Array.isArray(f.type) ? [] : nullableFieldsWithoutNullDefault(f.type, `${here}.`);
    return [...own, ...inner];
  });
}

describe('the Avro schemas mirror the zod contracts', () => {
  it.each(ALL_TOPICS)('%s: same fields, types, nullability and enum symbols', (topic) => {
    expect(avroShape(loadAvroSchema(topic))).toEqual(zodShape(EVENT_SCHEMAS[topic]));
  });

  it.each(ALL_TOPICS)('%s: every nullable field defaults to null, so it can be added and removed compatibly', (topic) => {
    expect(nullableFieldsWithoutNullDefault(loadAvroSchema(topic))).toEqual([]);
  });

  it.each(ALL_TOPICS)('%s: compiles with avsc, in namespace dev.crm', (topic) => {
    expect(avroType(topic).name).toMatch(/^dev\.crm\.[A-Z]\w+Event$/);
  });
});

// ------------------------------------------------------------------------------------ examples

const validFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));

describe('valid examples: zod and Avro both accept them', () => {
  it('there is at least one example of every event type', () => {
    const types = new Set(validFiles.map((f) => (readJson(new URL(f, EXAMPLES)) as { type: string }).type));
    expect([...types].sort()).toEqual(ALL_TOPICS.flatMap((t) => EVENT_TYPES[t]).sort());
  });

  it.each(validFiles)('%s', async (file) => {
    const example = readJson(new URL(file, EXAMPLES)) as { type: string };
    const topic = topicOfType(example.type);
    if (topic === undefined) throw new Error(`${file}: type ${example.type} belongs to no topic`);
    const zodResult = EVENT_SCHEMAS[topic].safeParse(example);
    expect(zodResult.error).toBeUndefined();
    const type = avroType(topic);
    expect(type.isValid(example)).toBe(true);
    // Avro round trip gives back the same event.
    expect(JSON.parse(JSON.stringify(type.fromBuffer(type.toBuffer(example))))).toEqual(example);
    // The combined decoder accepts it as JSON and as Confluent wire format.
    for (const value of [json(example), avroWire(topic, example)]) {
      const decoded = await decodeInput(topic, value, registry);
      expect(decoded).toMatchObject({ ok: true, event: example });
    }
  });
});

interface InvalidCase {
  readonly file: string;
  readonly topic: string;
  /** Dotted path of the field the decoder must name. */
  readonly field: string;
  readonly reason: DecodeReason;
  /** Whether Avro alone (isValid) accepts the event: 'accepts' marks a zod-only rule. */
  readonly avro: 'accepts' | 'rejects';
  readonly why: string;
}
const invalidCases = readJson(new URL('manifest.json', INVALID)) as InvalidCase[];

describe('broken examples: zod and Avro reject the same ones; the combined decoder rejects all', () => {
  it('the manifest lists every file in examples/invalid, with known topics and reasons', () => {
    const files = readdirSync(INVALID).filter((f) => f.endsWith('.json') && f !== 'manifest.json');
    expect(invalidCases.map((c) => c.file).sort()).toEqual(files.sort());
    for (const c of invalidCases) {
      expect(isTopic(c.topic), c.file).toBe(true);
      expect(DECODE_REASONS, c.file).toContain(c.reason);
    }
  });

  it.each(invalidCases)('$file: $why', async (c) => {
    if (!isTopic(c.topic)) throw new Error(`unknown topic ${c.topic}`);
    const topic = c.topic;
    const event = readJson(new URL(c.file, INVALID));
    expect(EVENT_SCHEMAS[topic].safeParse(event).success).toBe(false);
    expect(avroType(topic).isValid(event)).toBe(c.avro === 'accepts');

    const fromJson = await decodeInput(topic, json(event), registry);
    expect(fromJson.ok ? null : { reason: fromJson.error.reason, field: fromJson.error.field }).toEqual({ reason: c.reason, field: c.field });

    if (c.avro === 'accepts') {
      // A zod-only rule: the Avro bytes are fine, the combined decoder still rejects them.
      const fromAvro = await decodeInput(topic, avroWire(topic, event), registry);
      expect(fromAvro.ok ? null : { reason: fromAvro.error.reason, field: fromAvro.error.field }).toEqual({ reason: c.reason, field: c.field });
    } else {
      expect(() => avroType(topic).toBuffer(event)).toThrow();
    }
  });
});

// ------------------------------------------------------------------------------------ properties

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path in `value` below the root, with the value there. */
function paths(value: Json, prefix: (string | number)[] = []): { path: (string | number)[]; value: Json }[] {
  const here = prefix.length === 0 ? [] : [{ path: prefix, value }];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
  if (value !== null && typeof value === 'object') return [...here, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  return here;
}

/** A value of another JSON type than `v`, that no field accepting `v`'s type accepts either. */
function wrongTypeFor(v: Json): Json {
  if (typeof v === 'string') return 42;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return 'true';
  if (v === null) return { unexpected: 1 };
  return 'not a structure';
}

function setPath(root: Json, path: (string | number)[], v: Json | undefined): Json {
  const copy = structuredClone(root);
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path.at(-1) as string | number;
  if (v === undefined) delete node[last];
  else node[last] = v;
  return copy;
}

async function rejection(topic: Topic, value: Buffer): Promise<{ reason: DecodeReason; field: string | null } | 'accepted'> {
  const r = await decodeInput(topic, value, registry);
  return r.ok ? 'accepted' : { reason: r.error.reason, field: r.error.field };
}

describe('generated events: zod and Avro agree', () => {
  it(`both accept every generated event, and both round trips give it back (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(topicEventArb, async ({ topic, event }) => {
        expect(EVENT_SCHEMAS[topic].safeParse(event).success).toBe(true);
        const type = avroType(topic);
        expect(type.isValid(event)).toBe(true);
        expect(type.fromBuffer(type.toBuffer(event))).toEqual(event);
        for (const value of [json(event), avroWire(topic, event)]) {
          const decoded = await decodeInput(topic, value, registry);
          expect(decoded.ok && decoded.event).toEqual(event);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`a field given a value of the wrong type is rejected by both, naming the field (${RUNS} runs)`, async () => {
    const arb = topicEventArb.chain(({ topic, event }) =>
      fc.constantFrom(...paths(event as unknown as Json)).map((target) => ({ topic, event: event as unknown as Json, target })),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ topic, event, target }) => {
        const broken = setPath(event, target.path, wrongTypeFor(target.value));
        expect(EVENT_SCHEMAS[topic].safeParse(broken).success).toBe(false);
        expect(avroType(topic).isValid(broken)).toBe(false);
        const r = await rejection(topic, json(broken));
        expect(r).toEqual({ reason: 'invalid_field', field: target.path.join('.') });
      }),
      { numRuns: RUNS },
    );
  });

  it(`an event without subject (customer id) is rejected by both (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(topicEventArb, async ({ topic, event }) => {
        const broken = setPath(event as unknown as Json, ['subject'], undefined);
        expect(EVENT_SCHEMAS[topic].safeParse(broken).success).toBe(false);
        expect(avroType(topic).isValid(broken)).toBe(false);
        expect(await rejection(topic, json(broken))).toEqual({ reason: 'missing_field', field: 'subject' });
      }),
      { numRuns: RUNS },
    );
  });

  it(`a negative amount: zod only; the combined decoder rejects it from JSON and from Avro (${RUNS} runs)`, async () => {
    // avsc represents longs as JS numbers and only accepts magnitudes up to 2^52.
    const arb = fc.tuple(orderEventArb, fc.integer({ min: 1, max: 2 ** 52 }));
    await fc.assert(
      fc.asyncProperty(arb, async ([event, n]) => {
        const broken = { ...event, data: { ...event.data, amountMinor: -n } };
        const topic = 'commerce.orders.v1';
        expect(EVENT_SCHEMAS[topic].safeParse(broken).success).toBe(false);
        expect(avroType(topic).isValid(broken)).toBe(true);
        const expected = { reason: 'invalid_field', field: 'data.amountMinor' };
        expect(await rejection(topic, json(broken))).toEqual(expected);
        expect(await rejection(topic, avroWire(topic, broken))).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  const badTime = fc.oneof(
    // No such day: February 30/31, April 31...
    fc
      .tuple(fc.integer({ min: 1970, max: 9999 }), fc.constantFrom('02-30', '02-31', '04-31', '06-31', '09-31', '11-31'))
      .map(([y, md]) => `${y}-${md}T12:00:00Z`),
    // February 29 of a year that is not a leap year.
    fc
      .integer({ min: 1970, max: 9999 })
      .filter((y) => !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)))
      .map((y) => `${y}-02-29T00:00:00Z`),
    // Month or hour out of range.
    fc.integer({ min: 13, max: 99 }).map((m) => `2026-${m}-01T00:00:00Z`),
    fc.integer({ min: 24, max: 99 }).map((h) => `2026-01-01T${h}:00:00Z`),
    // Not UTC, or not a timestamp at all.
    fc.constantFrom('2026-01-31T12:00:00+01:00', '2026-01-31 12:00:00Z', '2026-01-31', '1969-12-31T23:59:59Z', 'yesterday', ''),
  );

  it(`an impossible or non-UTC time: zod only; the combined decoder rejects it from JSON and from Avro (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(topicEventArb, badTime, async ({ topic, event }, time) => {
        const broken = { ...event, time };
        expect(EVENT_SCHEMAS[topic].safeParse(broken).success).toBe(false);
        expect(avroType(topic).isValid(broken)).toBe(true);
        const expected = { reason: 'invalid_field', field: 'time' };
        expect(await rejection(topic, json(broken))).toEqual(expected);
        expect(await rejection(topic, avroWire(topic, broken))).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it(`an oversized customer id: zod only; the combined decoder rejects it from JSON and from Avro (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(topicEventArb, fc.integer({ min: 129, max: 10_000 }), async ({ topic, event }, length) => {
        const broken = { ...event, subject: 'x'.repeat(length) };
        expect(EVENT_SCHEMAS[topic].safeParse(broken).success).toBe(false);
        expect(avroType(topic).isValid(broken)).toBe(true);
        const expected = { reason: 'invalid_field', field: 'subject' };
        expect(await rejection(topic, json(broken))).toEqual(expected);
        expect(await rejection(topic, avroWire(topic, broken))).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('each topic has an arbitrary whose events its own schema accepts', () => {
    for (const topic of ALL_TOPICS) {
      fc.assert(
        fc.property(eventArb(topic), (e) => EVENT_SCHEMAS[topic].safeParse(e).success),
        { numRuns: 20 },
      );
    }
  });
});
