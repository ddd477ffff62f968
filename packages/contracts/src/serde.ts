/**
 * Turns Kafka record values into validated events and events into record values.
 *
 * Input may be Confluent wire format (first byte 0x00) or JSON (first non-blank byte '{').
 * Wire-format values are decoded with the writer schema fetched from the registry by id and
 * resolved into this topic's schema from /schemas (so compatible older or newer writers are
 * read correctly), then validated with the topic's zod schema. JSON values are validated with
 * the zod schema directly.
 *
 * Avro checks types, presence of fields without a default, nullability, integer-ness and the
 * enum symbols of `data`. Only zod checks (so they apply to Avro input after decoding too):
 *   - string lengths: ids 1-128, text 1-256, segment-change reason 1-512, dead-letter message <= 4096;
 *   - formats: ISO-8601 UTC times of real instants (no 2026-02-30), ISO-4217 currency, digit-only offsets;
 *   - number ranges: amountMinor 0..10^12, itemCount, handleTimeSeconds, csat 1-5, nps 0-10, partition >= 0;
 *   - the envelope literals: specversion "1.0" and the CloudEvents `type` of the topic (dotted names are
 *     not valid Avro enum symbols, so they are strings in Avro);
 *   - presence of nullable fields: Avro fills a missing ["null", T] field with its default null,
 *     zod requires JSON input to state null explicitly.
 *
 * The zod check runs through a fast path compiled from the same schemas (fast-parse.ts) that
 * accepts exactly what zod accepts; zod itself runs only for what the fast path refuses, so every
 * refusal keeps zod's reasons and wording.
 *
 * Bad input never throws: decodeInput returns `{ ok: false, error: DecodeError }`. Only registry
 * failures throw (RegistryError, retriable unless auth/permissions are wrong).
 */
import type { z } from 'zod';
import { type AvroResolver, type AvroType, avroType } from './avro.ts';
import { type AvroWriter, compileWriter } from './avro-writer.ts';
import { DecodeError, type DecodeIssue, EncodeError } from './errors.ts';
import { compileParser, type FastParse } from './fast-parse.ts';
import { REFUSED } from './refused.ts';
import { knownWriterType, type RegistryClient, schemaIdFor, writerTypeOf } from './registry.ts';
import { ALL_TOPICS, EVENT_SCHEMAS, type EventOf, isTopic, type Topic, topicOfType } from './topics.ts';
import { MAGIC_BYTE, WIRE_HEADER_BYTES, readWireFormat, writeWireFormat } from './wire.ts';

export type DecodeResult<T extends Topic> =
  | {
      readonly ok: true;
      readonly event: EventOf<T>;
      readonly format: 'avro' | 'json';
      /** The writer's schema id for wire-format input; null for JSON. */
      readonly schemaId: number | null;
    }
  | { readonly ok: false; readonly error: DecodeError };

const OPEN_BRACE = 0x7b;
const BLANKS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and validates one record value of `topic`. Returns the event or a DecodeError (bad
 * input: dead-letter it). Throws only RegistryError, when the registry cannot be asked.
 */
export async function decodeInput<T extends Topic>(topic: T, value: Buffer | null, registry?: RegistryClient): Promise<DecodeResult<T>> {
  assertTopic(topic);
  return decodeValue(topic, value, registry);
}

/**
 * `decodeInput` of each value, in order, for a batch: one promise for the batch, not one per
 * record (a record is decoded synchronously once its writer schema is known; only one whose
 * schema is not is waited for). Same results; throws RegistryError as decodeInput does.
 */
export async function decodeInputs<T extends Topic>(topic: T, values: readonly (Buffer | null)[], registry?: RegistryClient): Promise<DecodeResult<T>[]> {
  assertTopic(topic);
  const out = new Array<DecodeResult<T>>(values.length);
  for (let i = 0; i < values.length; i++) {
    const res = decodeValue(topic, values[i] ?? null, registry);
    out[i] = res instanceof Promise ? await res : res;
  }
  return out;
}

/** decodeInput's work: synchronous unless the registry must be asked for the writer's schema. */
function decodeValue<T extends Topic>(topic: T, value: Buffer | null, registry: RegistryClient | undefined): DecodeResult<T> | Promise<DecodeResult<T>> {
  if (value === null || value.length === 0) {
    return fail(new DecodeError('empty', value === null ? 'the record has no value (tombstone)' : 'the value is empty', { topic }));
  }
  if (value[0] === MAGIC_BYTE) return decodeWire(topic, value, registry);
  const start = firstNonBlank(value);
  if (start === value.length) return fail(new DecodeError('empty', 'the value is only whitespace', { topic }));
  if (value[start] === OPEN_BRACE) return decodeJson(topic, value);
  return fail(
    new DecodeError('unknown_format', `the value is neither Confluent wire format (first byte 0x00) nor a JSON object (first byte 0x${hex(value[start])})`, {
      topic,
    }),
  );
}

export interface EncodeOptions {
  /**
   * true: the caller vouches that the event satisfies its contract, and the zod check (about
   * 4 µs an event) is skipped. Only for a hot path whose events one function builds from typed
   * values, with a property test proving its output always passes (the segmenter's
   * toChangeEvent). Avro encoding still refuses a value of the wrong type.
   */
  checked?: boolean;
}

/**
 * Encodes an event of `topic` for producing: Avro in Confluent wire format when a registry is
 * given (the schema is looked up or registered under `<topic>-value` once per client and the id
 * cached), else UTF-8 JSON. Throws EncodeError when the event breaks its contract (a bug) and
 * RegistryError when the registry fails.
 */
export async function encodeOutput<T extends Topic>(topic: T, event: EventOf<T>, registry?: RegistryClient, options: EncodeOptions = {}): Promise<Buffer> {
  const [value] = await encodeOutputs(topic, [event], registry, options);
  return value as Buffer;
}

/**
 * `encodeOutput` of each event, in order, for a batch: the schema id is looked up once and
 * the events are encoded in one synchronous pass (no promise per event). Same bytes, same
 * errors (the first event that breaks its contract throws).
 */
export async function encodeOutputs<T extends Topic>(
  topic: T,
  events: readonly EventOf<T>[],
  registry?: RegistryClient,
  options: EncodeOptions = {},
): Promise<Buffer[]> {
  assertTopic(topic);
  const out: Buffer[] = new Array(events.length);
  if (registry === undefined) {
    for (let i = 0; i < events.length; i++) out[i] = encodeJson(topic, events[i] as EventOf<T>, options);
    return out;
  }
  if (events.length === 0) return out;
  const schemaId = await schemaIdFor(registry, topic);
  const type = avroType(topic);
  const write = writerFor(topic, type);
  for (let i = 0; i < events.length; i++) out[i] = encodeAvro(topic, schemaId, type, write, events[i] as EventOf<T>, options);
  return out;
}

/** The event as validated (zod's output), unless the caller vouches for it. Throws EncodeError. */
function checkedData(topic: Topic, event: unknown, options: EncodeOptions): unknown {
  if (options.checked === true) return event;
  const fast = fastParse(topic, event);
  if (fast !== REFUSED) return fast;
  const schema: z.ZodType = EVENT_SCHEMAS[topic];
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const issues = toIssues(parsed.error.issues);
    const first = issues[0];
    throw new EncodeError(`event for ${topic} breaks its contract: ${summary(issues)}`, { topic, field: first?.field ?? null, issues });
  }
  return parsed.data;
}

function encodeJson(topic: Topic, event: unknown, options: EncodeOptions): Buffer {
  return Buffer.from(JSON.stringify(checkedData(topic, event, options)), 'utf8');
}

/**
 * Where values are written: avsc's toBuffer allocates a zeroed, unpooled buffer per value and
 * the wire header a second one plus a concat, a visible share of the segmenter's CPU (and of
 * its garbage) when thousands of changes go out at once. So values are written one after the
 * other into a slab, and each is handed out as a view of its bytes (as Node's own pool does
 * for small buffers, with a larger slab: a change is ~200 bytes). A slab is kept alive by any
 * value still referenced, so it stays small; a value larger than the slab gets a slab of its
 * own. Only used synchronously, so one slab per process serves every caller.
 */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/**
 * Avro in Confluent wire format: the bytes of encodeWireFormat(schemaId, type.toBuffer(data)),
 * written by the topic's compiled writer (avro-writer.ts), or by avsc when the schema or the
 * value is one the writer does not cover.
 */
function encodeAvro(topic: Topic, schemaId: number, type: AvroType, write: AvroWriter | null, event: unknown, options: EncodeOptions): Buffer {
  const data = checkedData(topic, event, options);
  let end = writeWireFormat(slab, slabUsed, schemaId, type, write, data);
  while (end > slab.length) {
    slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, 2 * (end - slabUsed)));
    slabUsed = 0;
    end = writeWireFormat(slab, 0, schemaId, type, write, data);
  }
  const value = slab.subarray(slabUsed, end);
  slabUsed = end;
  return value;
}

/** Each topic's compiled Avro writer (null: its schema has none, avsc alone writes). */
const writers = new Map<Topic, AvroWriter | null>();

function writerFor(topic: Topic, type: AvroType): AvroWriter | null {
  let write = writers.get(topic);
  if (write === undefined) {
    write = compileWriter(type);
    writers.set(topic, write);
  }
  return write;
}

/** Synchronous once the writer schema is known; a promise only when the registry must be asked. */
function decodeWire<T extends Topic>(topic: T, value: Buffer, registry: RegistryClient | undefined): DecodeResult<T> | Promise<DecodeResult<T>> {
  const wire = readWireFormat(value);
  if (wire === null) {
    return fail(new DecodeError('truncated', `wire-format value has ${value.length} bytes, fewer than its ${WIRE_HEADER_BYTES}-byte header`, { topic }));
  }
  const { schemaId, body } = wire;
  if (registry === undefined) {
    return fail(new DecodeError('no_registry', `value is Avro (schema id ${schemaId}) and no schema registry is configured`, { topic, schemaId }));
  }
  const known = knownWriterType(registry, schemaId);
  if (known !== undefined) return decodeBody(topic, schemaId, body, known);
  return writerTypeOf(registry, schemaId, topic).then((writer) => (writer instanceof DecodeError ? fail(writer) : decodeBody(topic, schemaId, body, writer)));
}

/** The Avro body of a wire-format value, written with `writer`, read into this topic's schema and validated. */
function decodeBody<T extends Topic>(topic: T, schemaId: number, body: Buffer, writer: AvroType): DecodeResult<T> {
  const reader = avroType(topic);
  const resolver = resolverFor(topic, reader, writer);
  if (resolver instanceof Error) {
    const wrongTopic = writer.name !== reader.name;
    return fail(
      new DecodeError(
        wrongTopic ? 'wrong_topic' : 'unsupported_schema',
        wrongTopic
          ? `schema id ${schemaId} is ${writer.name ?? 'an unnamed type'}, not ${reader.name ?? topic} of ${topic}`
          : `schema id ${schemaId} cannot be read as this topic's schema: ${resolver.message}`,
        { topic, schemaId, cause: resolver },
      ),
    );
  }

  let decoded: unknown;
  try {
    decoded = reader.fromBuffer(body, resolver, false);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const truncated = /truncated/i.test(message);
    return fail(
      new DecodeError(truncated ? 'truncated' : 'avro_invalid', `Avro body (schema id ${schemaId}) does not decode: ${message}`, {
        topic,
        schemaId,
        cause: err,
      }),
    );
  }
  return validate(topic, decoded, 'avro', schemaId);
}

function decodeJson<T extends Topic>(topic: T, value: Buffer): DecodeResult<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(value));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return fail(new DecodeError('json_invalid', `value is not valid UTF-8 JSON: ${message}`, { topic, cause: err }));
  }
  return validate(topic, parsed, 'json', null);
}

function validate<T extends Topic>(topic: T, input: unknown, format: 'avro' | 'json', schemaId: number | null): DecodeResult<T> {
  const fast = fastParse(topic, input);
  if (fast !== REFUSED) return { ok: true, event: fast as EventOf<T>, format, schemaId };
  const schema: z.ZodType = EVENT_SCHEMAS[topic];
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, event: result.data as EventOf<T>, format, schemaId };

  const issues = toIssues(result.error.issues);
  const type = isObject(input) ? input['type'] : undefined;
  const typeTopic = typeof type === 'string' ? topicOfType(type) : undefined;
  if (typeTopic !== undefined && typeTopic !== topic) {
    return fail(new DecodeError('wrong_topic', `type "${String(type)}" is an event of ${typeTopic}, not ${topic}`, { topic, field: 'type', issues, schemaId }));
  }
  const first = result.error.issues[0];
  const path = first?.path ?? [];
  const field = path.length === 0 ? null : path.map(String).join('.');
  const reason = path.length > 0 && isMissing(input, path) ? 'missing_field' : 'invalid_field';
  return fail(new DecodeError(reason, summary(issues), { topic, field, issues, schemaId }));
}

/** Each topic's compiled fast path for its zod schema (null: the schema has none, zod alone decides). */
const fastParsers = new Map<Topic, FastParse | null>();

/**
 * What the topic's zod schema would parse `input` into, or REFUSED when it would (or might)
 * refuse it: then zod is asked, and words the error as before (fast-parse.ts).
 */
function fastParse(topic: Topic, input: unknown): unknown {
  let parse = fastParsers.get(topic);
  if (parse === undefined) {
    parse = compileParser(EVENT_SCHEMAS[topic]);
    fastParsers.set(topic, parse);
  }
  return parse === null ? REFUSED : parse(input);
}

/** Per writer schema (as returned, and cached, by the registry client), its resolver into our reader schema. */
const resolvers = new Map<Topic, WeakMap<AvroType, AvroResolver | Error>>();

function resolverFor(topic: Topic, reader: AvroType, writer: AvroType): AvroResolver | Error {
  let perWriter = resolvers.get(topic);
  if (perWriter === undefined) {
    perWriter = new WeakMap();
    resolvers.set(topic, perWriter);
  }
  let resolver = perWriter.get(writer);
  if (resolver === undefined) {
    try {
      resolver = reader.createResolver(writer);
    } catch (err) {
      resolver = err instanceof Error ? err : new Error(String(err));
    }
    perWriter.set(writer, resolver);
  }
  return resolver;
}

function toIssues(issues: readonly z.core.$ZodIssue[]): DecodeIssue[] {
  return issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message }));
}

function summary(issues: readonly DecodeIssue[]): string {
  const [first, ...rest] = issues;
  if (first === undefined) return 'invalid';
  const head = first.field === '' ? first.message : `${first.field}: ${first.message}`;
  return rest.length === 0 ? head : `${head} (and ${rest.length} more: ${rest.map((i) => i.field || '(root)').join(', ')})`;
}

/** True when the last key of `path` is absent (or undefined) in an object reached through `path`. */
function isMissing(input: unknown, path: readonly PropertyKey[]): boolean {
  let node: unknown = input;
  for (const key of path) {
    if (!isObject(node) && !Array.isArray(node)) return false;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node === undefined;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function firstNonBlank(value: Buffer): number {
  let i = 0;
  if (value[0] === UTF8_BOM[0] && value[1] === UTF8_BOM[1] && value[2] === UTF8_BOM[2]) i = UTF8_BOM.length;
  while (i < value.length && BLANKS.has(value[i] ?? -1)) i++;
  return i;
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0');
}

/** A topic without a contract is a wiring bug of the caller, not bad input: fail loudly. */
function assertTopic(topic: string): void {
  if (!isTopic(topic)) throw new TypeError(`no contract for topic "${topic}"; known topics: ${ALL_TOPICS.join(', ')}`);
}

function fail(error: DecodeError): { ok: false; error: DecodeError } {
  return { ok: false, error };
}
