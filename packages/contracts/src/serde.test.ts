import { readFileSync } from 'node:fs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { avroType, SCHEMA_DIR } from './avro.ts';
import { DecodeError, EncodeError, RegistryError } from './errors.ts';
import type { DeadLetterEvent, OrderEvent, SegmentChangeEvent } from './events.ts';
import { registerSchemas, type RegistryClient } from './registry.ts';
import { decodeInput, decodeInputs, type DecodeResult, encodeOutput, encodeOutputs } from './serde.ts';
import { encodeWireFormat, eventArb, FakeHttpError, MemoryRegistry, topicEventArb } from './testing.ts';
import type { Topic } from './topics.ts';

const ORDERS = 'commerce.orders.v1';
const example = <T>(name: string): T => JSON.parse(readFileSync(new URL(`examples/${name}.json`, SCHEMA_DIR), 'utf8')) as T;
const order = example<OrderEvent>('commerce.order.completed');
const change = example<SegmentChangeEvent>('crm.segment.changed');
const json = (x: unknown): Buffer => Buffer.from(JSON.stringify(x));

function failure<T extends Topic>(r: DecodeResult<T>): { reason: string; field: string | null } | 'ok' {
  return r.ok ? 'ok' : { reason: r.error.reason, field: r.error.field };
}

/** A MemoryRegistry that counts the calls made to it. */
class CountingRegistry extends MemoryRegistry {
  calls = 0;
  override async register(schema: unknown, options?: { subject?: string }): Promise<{ id: number }> {
    this.calls++;
    return super.register(schema, options);
  }
  override async getRegistryIdBySchema(subject: string, schema: unknown): Promise<number> {
    this.calls++;
    return super.getRegistryIdBySchema(subject, schema);
  }
  override async getSchema(id: number): ReturnType<MemoryRegistry['getSchema']> {
    this.calls++;
    return super.getSchema(id);
  }
}

/** A registry whose getSchema is `getSchema`; its other calls fail the test. */
function stubRegistry(getSchema: RegistryClient['getSchema']): RegistryClient {
  const unexpected = async (): Promise<never> => {
    throw new Error('unexpected registry call');
  };
  return { getSchema, register: unexpected, getRegistryIdBySchema: unexpected };
}

let registry: MemoryRegistry;
let ids: Record<Topic, number>;
beforeEach(async () => {
  registry = new MemoryRegistry();
  ids = await registerSchemas(registry);
});

describe('decodeInput: telling the format apart', () => {
  it('decodes a JSON object', async () => {
    expect(await decodeInput(ORDERS, json(order))).toEqual({ ok: true, event: order, format: 'json', schemaId: null });
  });

  it('accepts whitespace and a UTF-8 byte-order mark before the JSON object', async () => {
    const value = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(' \r\n\t'), json(order)]);
    expect(await decodeInput(ORDERS, value)).toMatchObject({ ok: true, event: order });
  });

  it('decodes Confluent wire format through the registry', async () => {
    const value = await encodeOutput(ORDERS, order, registry);
    expect(value[0]).toBe(0);
    expect(value.readInt32BE(1)).toBe(ids[ORDERS]);
    expect(await decodeInput(ORDERS, value, registry)).toEqual({ ok: true, event: order, format: 'avro', schemaId: ids[ORDERS] });
  });

  it.each([
    ['a tombstone (null value)', null],
    ['zero bytes', Buffer.alloc(0)],
    ['whitespace only', Buffer.from(' \n\t ')],
  ])('%s is empty', async (_, value) => {
    expect(failure(await decodeInput(ORDERS, value))).toEqual({ reason: 'empty', field: null });
  });

  it.each([
    ['plain text', 'hello'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"x"'],
    ['a non-zero magic byte', '\u0001\u0000\u0000\u0000\u0001'],
  ])('%s is an unknown format', async (_, text) => {
    expect(failure(await decodeInput(ORDERS, Buffer.from(text)))).toEqual({ reason: 'unknown_format', field: null });
  });

  it('JSON cut short is json_invalid', async () => {
    const value = json(order);
    expect(failure(await decodeInput(ORDERS, value.subarray(0, value.length - 5)))).toEqual({ reason: 'json_invalid', field: null });
  });

  it('JSON with invalid UTF-8 is json_invalid (not silently replaced)', async () => {
    const value = Buffer.concat([Buffer.from('{"subject":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(failure(await decodeInput(ORDERS, value))).toEqual({ reason: 'json_invalid', field: null });
  });
});

describe('decodeInput: broken wire format', () => {
  it.each([1, 2, 4])('%i byte(s) of header is truncated', async (n) => {
    const value = encodeWireFormat(ids[ORDERS], Buffer.alloc(0)).subarray(0, n);
    expect(failure(await decodeInput(ORDERS, value, registry))).toEqual({ reason: 'truncated', field: null });
  });

  it('an Avro body that ends early is truncated', async () => {
    const value = await encodeOutput(ORDERS, order, registry);
    for (const cut of [1, 3, 10]) {
      expect(failure(await decodeInput(ORDERS, value.subarray(0, value.length - cut), registry))).toEqual({ reason: 'truncated', field: null });
    }
  });

  it('a header with no body is truncated', async () => {
    expect(failure(await decodeInput(ORDERS, encodeWireFormat(ids[ORDERS], Buffer.alloc(0)), registry))).toEqual({
      reason: 'truncated',
      field: null,
    });
  });

  it('bytes after the Avro body are avro_invalid', async () => {
    const value = Buffer.concat([await encodeOutput(ORDERS, order, registry), Buffer.from([1, 2, 3])]);
    expect(failure(await decodeInput(ORDERS, value, registry))).toEqual({ reason: 'avro_invalid', field: null });
  });

  it('a schema id the registry does not know is unknown_schema', async () => {
    const result = await decodeInput(ORDERS, encodeWireFormat(4242, Buffer.from([0])), registry);
    expect(failure(result)).toEqual({ reason: 'unknown_schema', field: null });
    expect(!result.ok && result.error.schemaId).toBe(4242);
  });

  it('schema ids 0 and below are unknown_schema without asking the registry', async () => {
    const counting = new CountingRegistry();
    for (const id of [0, -1]) {
      expect(failure(await decodeInput(ORDERS, encodeWireFormat(id, Buffer.from([0])), counting))).toEqual({ reason: 'unknown_schema', field: null });
    }
    expect(counting.calls).toBe(0);
  });

  it('wire format without a configured registry is no_registry', async () => {
    const value = await encodeOutput(ORDERS, order, registry);
    expect(failure(await decodeInput(ORDERS, value))).toEqual({ reason: 'no_registry', field: null });
  });

  it("a record written with another topic's schema is wrong_topic", async () => {
    const value = await encodeOutput('crm.segment-changes.v1', change, registry);
    expect(failure(await decodeInput(ORDERS, value, registry))).toEqual({ reason: 'wrong_topic', field: null });
  });

  it('a schema id that is not Avro is unsupported_schema', async () => {
    const notAvro = stubRegistry(async () => ({}) as Awaited<ReturnType<RegistryClient['getSchema']>>);
    expect(failure(await decodeInput(ORDERS, encodeWireFormat(7, Buffer.from([0])), notAvro))).toEqual({ reason: 'unsupported_schema', field: null });
  });

  it('a schema the client cannot build (no HTTP status) is unsupported_schema', async () => {
    const broken = stubRegistry(async () => {
      throw new Error('unknown type: dev.crm.Missing');
    });
    expect(failure(await decodeInput(ORDERS, encodeWireFormat(7, Buffer.from([0])), broken))).toEqual({ reason: 'unsupported_schema', field: null });
  });
});

describe('decodeInput: writer schemas', () => {
  it('asks the registry once per schema id, and again after a failure', async () => {
    const counting = new CountingRegistry();
    const id = await registerSchemas(counting).then((all) => all[ORDERS]);
    const value = await encodeOutput(ORDERS, order, counting);
    const unknown = encodeWireFormat(id + 100, Buffer.from([0]));
    counting.calls = 0;
    for (let i = 0; i < 3; i++) {
      expect(await decodeInput(ORDERS, value, counting)).toMatchObject({ ok: true, event: order, schemaId: id });
      expect(failure(await decodeInput(ORDERS, unknown, counting))).toEqual({ reason: 'unknown_schema', field: null });
    }
    // One fetch of the known id; the unknown id is asked every time (it may be registered later).
    expect(counting.calls).toBe(1 + 3);
    counting.failWith = new FakeHttpError(503, 'down');
    expect(await decodeInput(ORDERS, value, counting)).toMatchObject({ ok: true, event: order });
  });
});

describe('decodeInputs', () => {
  it("gives each value decodeInput's result, in order: Avro of a schema not fetched yet, JSON, bad values", async () => {
    const counting = new CountingRegistry();
    const id = await registerSchemas(counting).then((all) => all[ORDERS]);
    const avro = await encodeOutput(ORDERS, order, counting);
    const values = [avro, null, json(order), encodeWireFormat(id + 100, Buffer.from([0])), Buffer.from('{'), avro];
    const one = new MemoryRegistry();
    await registerSchemas(one);
    const expected = [];
    for (const value of values) expected.push(await decodeInput(ORDERS, value, one));
    counting.calls = 0;
    expect(await decodeInputs(ORDERS, values, counting)).toEqual(expected);
    expect(expected.map((r) => r.ok)).toEqual([true, false, true, false, false, true]);
    // The writer schema is fetched once (the first record waits for it); the unknown id is asked.
    expect(counting.calls).toBe(2);
  });

  it('throws the RegistryError decodeInput throws', async () => {
    const value = await encodeOutput(ORDERS, order, registry);
    const fresh = new MemoryRegistry();
    fresh.failWith = new FakeHttpError(503, 'unavailable');
    await expect(decodeInputs(ORDERS, [json(order), value], fresh)).rejects.toMatchObject({ name: 'RegistryError', retriable: true });
  });
});

describe('decodeInput: schema evolution through the registry', () => {
  const orderSchema = JSON.parse(readFileSync(new URL('commerce.orders.v1.avsc', SCHEMA_DIR), 'utf8')) as {
    fields: { name: string; type: { fields: { name: string }[] } }[];
  };
  function withDataFields(edit: (fields: unknown[]) => unknown[]): unknown {
    const copy = structuredClone(orderSchema);
    const data = copy.fields.find((f) => f.name === 'data');
    if (data === undefined) throw new Error('no data field');
    data.type.fields = edit(data.type.fields) as { name: string }[];
    return copy;
  }

  it('an older writer without a nullable field is read with its default null', async () => {
    const older = withDataFields((fields) => fields.filter((f) => (f as { name: string }).name !== 'storeId'));
    const { id } = await registry.register(older, { subject: `${ORDERS}-value` });
    const { storeId: _, ...olderData } = order.data;
    const value = encodeWireFormat(id, toAvro(older, { ...order, data: olderData }));
    expect(await decodeInput(ORDERS, value, registry)).toMatchObject({ ok: true, event: { ...order, data: { ...order.data, storeId: null } } });
  });

  it('a newer writer with an extra field is read without it', async () => {
    const newer = withDataFields((fields) => [...fields, { name: 'coupon', type: ['null', 'string'], default: null }]);
    const { id } = await registry.register(newer, { subject: `${ORDERS}-value` });
    const value = encodeWireFormat(id, toAvro(newer, { ...order, data: { ...order.data, coupon: 'SPRING' } }));
    const result = await decodeInput(ORDERS, value, registry);
    expect(result).toMatchObject({ ok: true, event: order });
    expect(result.ok && 'coupon' in result.event.data).toBe(false);
  });
});

function toAvro(schema: unknown, value: unknown): Buffer {
  return avsc.Type.forSchema(schema as avsc.Schema).toBuffer(value);
}

describe('decodeInput: validation errors name the field', () => {
  const cases: [string, (e: OrderEvent) => unknown, string, string][] = [
    ['missing customer id', ({ subject: _, ...rest }) => rest, 'missing_field', 'subject'],
    ['missing data', ({ data: _, ...rest }) => rest, 'missing_field', 'data'],
    [
      'missing nullable field (zod wants an explicit null in JSON)',
      (e) => ({ ...e, data: { ...e.data, storeId: undefined } }),
      'missing_field',
      'data.storeId',
    ],
    ['amount as a string', (e) => ({ ...e, data: { ...e.data, amountMinor: '12999' } }), 'invalid_field', 'data.amountMinor'],
    ['negative amount', (e) => ({ ...e, data: { ...e.data, amountMinor: -1 } }), 'invalid_field', 'data.amountMinor'],
    ['fractional amount', (e) => ({ ...e, data: { ...e.data, amountMinor: 1.5 } }), 'invalid_field', 'data.amountMinor'],
    ['impossible date', (e) => ({ ...e, time: '2026-02-30T00:00:00Z' }), 'invalid_field', 'time'],
    ['oversized customer id', (e) => ({ ...e, subject: 'c'.repeat(129) }), 'invalid_field', 'subject'],
    ['oversized channel', (e) => ({ ...e, data: { ...e.data, channel: 'w'.repeat(257) } }), 'invalid_field', 'data.channel'],
    ['unknown event type', (e) => ({ ...e, type: 'commerce.order.shipped' }), 'invalid_field', 'type'],
    ['an event type of another topic', (e) => ({ ...e, type: 'customer.registered' }), 'wrong_topic', 'type'],
  ];

  it.each(cases)('%s', async (_, mutate, reason, field) => {
    const result = await decodeInput(ORDERS, json(mutate(order)));
    expect(failure(result)).toEqual({ reason, field });
    expect(!result.ok && result.error.message).toContain(field);
  });

  it('a nested field is named by its dotted path', async () => {
    const broken = { ...change, data: { ...change.data, cause: { ...change.data.cause, offset: '-1' } } };
    expect(failure(await decodeInput('crm.segment-changes.v1', json(broken)))).toEqual({ reason: 'invalid_field', field: 'data.cause.offset' });
  });

  it('lists every issue, the first one as the field', async () => {
    const broken = { ...order, subject: '', data: { ...order.data, amountMinor: -1, currency: 'eur' } };
    const result = await decodeInput(ORDERS, json(broken));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.field).toBe('subject');
    expect(result.error.issues.map((i) => i.field)).toEqual(['subject', 'data.amountMinor', 'data.currency']);
  });

  it('the same rules apply to Avro input (zod runs after Avro decoding)', async () => {
    const broken = { ...order, time: '2026-02-30T00:00:00Z', data: { ...order.data, amountMinor: -5 } };
    const value = encodeWireFormat(ids[ORDERS], avroType(ORDERS).toBuffer(broken));
    expect(failure(await decodeInput(ORDERS, value, registry))).toEqual({ reason: 'invalid_field', field: 'time' });
  });

  it('unknown extra fields are dropped, not rejected (like Avro schema resolution)', async () => {
    const result = await decodeInput(ORDERS, json({ ...order, traceparent: 'x', data: { ...order.data, coupon: 'X' } }));
    expect(result).toEqual({ ok: true, event: order, format: 'json', schemaId: null });
  });
});

describe('decodeInput: registry failures are thrown, retriable', () => {
  it.each([
    ['a 503', new FakeHttpError(503, 'unavailable')],
    ['a 500', new FakeHttpError(500, 'boom')],
  ])('%s from the registry throws a retriable RegistryError', async (_, failWith) => {
    const value = await encodeOutput(ORDERS, order, registry);
    const fresh = new MemoryRegistry();
    fresh.failWith = failWith;
    const error = await decodeInput(ORDERS, value, fresh).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ retriable: true, status: failWith.status });
  });

  it('a 401 throws a RegistryError that is not retriable (fix the credentials)', async () => {
    const value = await encodeOutput(ORDERS, order, registry);
    const fresh = new MemoryRegistry();
    fresh.failWith = new FakeHttpError(401, 'unauthorized');
    await expect(decodeInput(ORDERS, value, fresh)).rejects.toMatchObject({ name: 'RegistryError', retriable: false, status: 401 });
  });

  it('the real client with nothing listening throws a retriable RegistryError, not a DecodeError', async () => {
    const value = await encodeOutput(ORDERS, order, registry);
    const unreachable = new SchemaRegistry({ host: 'http://127.0.0.1:9', retry: { retries: 0 } });
    const error = await decodeInput(ORDERS, value, unreachable).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ retriable: true });
  });

  it('never throws for bad bytes', async () => {
    const junk = [
      Buffer.from([0]),
      Buffer.from([0, 0xff, 0xff, 0xff]),
      Buffer.from('{'),
      Buffer.from([0x7b, 0xff]),
      Buffer.from([0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ];
    for (const value of junk) {
      const result = await decodeInput(ORDERS, value, registry);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toBeInstanceOf(DecodeError);
    }
  });
});

describe('topics without a contract', () => {
  it('are a wiring bug: decodeInput and encodeOutput throw a TypeError', async () => {
    await expect(decodeInput('orders' as Topic, json(order))).rejects.toThrow(TypeError);
    await expect(encodeOutput('orders' as Topic, order)).rejects.toThrow(/no contract for topic "orders"/);
  });
});

describe('encodeOutput', () => {
  it('writes JSON when no registry is configured', async () => {
    const value = await encodeOutput('crm.segment-changes.v1', change);
    expect(JSON.parse(value.toString('utf8'))).toEqual(change);
  });

  it('writes Avro in wire format, registering the subject <topic>-value once per client', async () => {
    const counting = new CountingRegistry();
    const first = await encodeOutput('crm.segment-changes.v1', change, counting);
    const callsAfterFirst = counting.calls;
    await encodeOutput('crm.segment-changes.v1', change, counting);
    await Promise.all([1, 2, 3].map(() => encodeOutput('crm.segment-changes.v1', change, counting)));
    expect(counting.calls).toBe(callsAfterFirst);
    expect([...counting.listSubjects().keys()]).toEqual(['crm.segment-changes.v1-value']);
    expect(await decodeInput('crm.segment-changes.v1', first, counting)).toMatchObject({ ok: true, event: change });
  });

  it('looks up an already registered schema instead of registering it again', async () => {
    const ids2 = await registerSchemas(registry);
    expect(ids2).toEqual(ids);
    expect([...registry.listSubjects()].map(([s, v]) => [s, v.length])).toEqual([
      ['commerce.orders.v1-value', 1],
      ['service.interactions.v1-value', 1],
      ['customer.profiles.v1-value', 1],
      ['crm.segment-changes.v1-value', 1],
      ['crm.dead-letter.v1-value', 1],
    ]);
  });

  it('a registry failure is not cached: the next call tries again', async () => {
    const flaky = new MemoryRegistry();
    flaky.failWith = new FakeHttpError(503, 'down');
    await expect(encodeOutput(ORDERS, order, flaky)).rejects.toMatchObject({ name: 'RegistryError', retriable: true });
    flaky.failWith = null;
    expect((await encodeOutput(ORDERS, order, flaky))[0]).toBe(0);
  });

  it('an incompatible schema (409) is a RegistryError that is not retriable', async () => {
    const refusing = new MemoryRegistry();
    refusing.register = async () => {
      throw new FakeHttpError(409, 'Schema being registered is incompatible');
    };
    await expect(encodeOutput(ORDERS, order, refusing)).rejects.toMatchObject({ name: 'RegistryError', retriable: false, status: 409 });
  });

  it('throws EncodeError naming the field when our own event breaks the contract', async () => {
    const broken = { ...change, data: { ...change.data, reason: '' } };
    const error = await encodeOutput('crm.segment-changes.v1', broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncodeError);
    expect(error).toMatchObject({ field: 'data.reason', retriable: false });
  });
});

describe('encodeOutput and encodeOutputs: the bytes of avsc toBuffer behind the wire header', () => {
  /** What encodeOutput wrote before it encoded into a reused buffer: the reference bytes. */
  const reference = (topic: Topic, event: unknown): Buffer => encodeWireFormat(ids[topic], avroType(topic).toBuffer(event));

  it('encodes every valid event of every topic to the same bytes, checked or not', async () => {
    await fc.assert(
      fc.asyncProperty(topicEventArb, async ({ topic, event }) => {
        const expected = reference(topic, event);
        expect(await encodeOutput(topic, event, registry)).toEqual(expected);
        expect(await encodeOutput(topic, event, registry, { checked: true })).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('encodes a batch as one encodeOutput per event, in order, each value its own bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb('crm.segment-changes.v1'), { maxLength: 30 }), fc.boolean(), async (events, checked) => {
        const values = await encodeOutputs('crm.segment-changes.v1', events, registry, { checked });
        expect(values).toEqual(events.map((e) => reference('crm.segment-changes.v1', e)));
        const json = await encodeOutputs('crm.segment-changes.v1', events, undefined, { checked });
        expect(json).toEqual(await Promise.all(events.map((e) => encodeOutput('crm.segment-changes.v1', e))));
      }),
      { numRuns: 100 },
    );
  });

  it('values written one after the other into shared memory keep their own bytes, batch after batch', async () => {
    // ~1,500 changes of ~100-700 bytes: several times what one slab holds.
    const batches = fc.sample(fc.array(eventArb('crm.segment-changes.v1'), { minLength: 50, maxLength: 50 }), { numRuns: 30, seed: 16 });
    const values = [];
    for (const events of batches) values.push(...(await encodeOutputs('crm.segment-changes.v1', events, registry, { checked: true })));
    expect(values).toEqual(batches.flat().map((e) => reference('crm.segment-changes.v1', e)));
  });

  it('values larger than the reused buffer come out whole', async () => {
    const big = Buffer.alloc(100_000, 7).toString('base64');
    const event: DeadLetterEvent = {
      specversion: '1.0',
      id: 'dl-1',
      source: 'urn:crm:test',
      type: 'crm.dead-lettered',
      time: '2026-01-31T12:00:00Z',
      subject: 'unknown',
      data: {
        topic: ORDERS,
        partition: 0,
        offset: '1',
        keyBase64: null,
        valueBase64: big,
        headers: [],
        reason: 'avro_invalid',
        field: null,
        message: 'm',
        recordTimestamp: null,
        truncated: false,
        sha256: null,
        size: null,
      },
    };
    const dead = await encodeOutput('crm.dead-letter.v1', event, registry);
    expect(dead.length).toBeGreaterThan(big.length);
    expect(await decodeInput('crm.dead-letter.v1', dead, registry)).toMatchObject({ ok: true, event: { data: { valueBase64: big } } });
    // And the next small value is right after the buffer grew.
    expect(await encodeOutput('crm.segment-changes.v1', change, registry)).toEqual(reference('crm.segment-changes.v1', change));
  });

  it('a batch with an event that breaks the contract throws EncodeError, like encodeOutput', async () => {
    const broken = { ...change, data: { ...change.data, reason: '' } };
    await expect(encodeOutputs('crm.segment-changes.v1', [change, broken], registry)).rejects.toBeInstanceOf(EncodeError);
    expect(await encodeOutputs('crm.segment-changes.v1', [], registry)).toEqual([]);
  });
});
