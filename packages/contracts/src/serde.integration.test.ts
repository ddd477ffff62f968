/**
 * The serde against a real schema registry (Apicurio Registry 3, Confluent-compatible API at
 * .../apis/ccompat/v7), whose URL the integration global setup puts in SCHEMA_REGISTRY_URL.
 * Subjects are the fixed `<topic>-value` names: registering the same schema again is idempotent,
 * so these tests can share a registry with other test files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { beforeAll, describe, expect, it } from 'vitest';
import { avroType, SCHEMA_DIR } from './avro.ts';
import { registerSchemas } from './registry.ts';
import { decodeInput, encodeOutput } from './serde.ts';
import { encodeWireFormat } from './testing.ts';
import { ALL_TOPICS, type EventOf, type Topic, subjectOf, topicOfType } from './topics.ts';

function registryUrl(): string {
  const url = process.env['SCHEMA_REGISTRY_URL'];
  if (url === undefined || url === '') throw new Error('SCHEMA_REGISTRY_URL is not set: run this file in the integration project (its global setup sets it)');
  return url;
}

const EXAMPLES = new URL('examples/', SCHEMA_DIR);
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.json'))
  .map((file) => {
    const event = JSON.parse(readFileSync(new URL(file, EXAMPLES), 'utf8')) as EventOf<Topic>;
    const topic = topicOfType(event.type);
    if (topic === undefined) throw new Error(`${file}: no topic carries type ${event.type}`);
    return { file, topic, event };
  });

/** The schema ids of every version of `subject`, from the registry's HTTP API. */
async function subjectIds(subject: string): Promise<number[]> {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}/versions${path}`);
    if (!res.ok) throw new Error(`registry: ${res.status} for ${subject}${path}`);
    return (await res.json()) as T;
  };
  const versions = await get<number[]>('');
  return Promise.all(versions.map(async (v) => (await get<{ id: number }>(`/${v}`)).id));
}

describe('serde with a real schema registry', () => {
  let registry: SchemaRegistry;
  let ids: Record<Topic, number>;

  beforeAll(async () => {
    registry = new SchemaRegistry({ host: registryUrl() });
    ids = await registerSchemas(registry);
  });

  it('registers every schema under <topic>-value', async () => {
    for (const topic of ALL_TOPICS) {
      expect(ids[topic]).toBeGreaterThan(0);
      // Among the subject's versions, not necessarily the latest: checkouts sharing this registry
      // may hold an older (or newer) revision of a contract and register theirs after ours.
      expect(await subjectIds(subjectOf(topic))).toContain(ids[topic]);
    }
    expect(new Set(Object.values(ids)).size).toBe(ALL_TOPICS.length);
  });

  it('finds the same ids again from a fresh client (registration is idempotent)', async () => {
    expect(await registerSchemas(new SchemaRegistry({ host: registryUrl() }))).toEqual(ids);
  });

  it.each(examples)('round-trips $file through Confluent wire format', async ({ topic, event }) => {
    const value = await encodeOutput(topic, event, registry);
    expect(value[0]).toBe(0);
    expect(value.readInt32BE(1)).toBe(ids[topic]);
    // A fresh client has no cached schemas: the writer schema really comes from the registry.
    const reader = new SchemaRegistry({ host: registryUrl() });
    expect(await decodeInput(topic, value, reader)).toEqual({ ok: true, event, format: 'avro', schemaId: ids[topic] });
    // Other Confluent clients decode our bytes too (here: the client's own decoder).
    expect(JSON.parse(JSON.stringify(await reader.decode(value)))).toEqual(event);
  });

  it('a schema id that does not exist is unknown_schema, not a thrown error', async () => {
    const missingId = 2 ** 31 - 1;
    const value = encodeWireFormat(missingId, Buffer.from([0, 0]));
    const result = await decodeInput('commerce.orders.v1', value, registry);
    expect(result.ok ? 'ok' : { reason: result.error.reason, schemaId: result.error.schemaId, retriable: result.error.retriable }).toEqual({
      reason: 'unknown_schema',
      schemaId: missingId,
      retriable: false,
    });
  });

  it("a record written with another topic's registered schema is wrong_topic", async () => {
    const example = examples.find((e) => e.topic === 'crm.segment-changes.v1');
    if (example === undefined) throw new Error('no segment-change example');
    const value = await encodeOutput(example.topic, example.event, registry);
    const result = await decodeInput('commerce.orders.v1', value, registry);
    expect(result.ok ? 'ok' : result.error.reason).toBe('wrong_topic');
  });

  it('zod-only rules still apply to Avro that the registry schema accepts', async () => {
    const example = examples.find((e) => e.topic === 'commerce.orders.v1');
    if (example === undefined) throw new Error('no order example');
    const broken = { ...example.event, time: '2026-02-30T00:00:00Z' };
    const value = encodeWireFormat(ids['commerce.orders.v1'], avroType('commerce.orders.v1').toBuffer(broken));
    const result = await decodeInput('commerce.orders.v1', value, registry);
    expect(result.ok ? 'ok' : { reason: result.error.reason, field: result.error.field }).toEqual({ reason: 'invalid_field', field: 'time' });
  });
});
