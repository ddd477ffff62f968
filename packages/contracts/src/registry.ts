/**
 * Talks to the schema registry (Confluent API; Apicurio Registry 3 serves it under
 * /apis/ccompat/v7) through @kafkajs/confluent-schema-registry: registers our schemas under
 * TopicNameStrategy subjects (`<topic>-value`) and fetches writer schemas by id. Turns the
 * client's HTTP failures into a DecodeError (bad input) or a RegistryError (infrastructure).
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type AvroType, isAvroType, loadAvroSchema } from './avro.ts';
import { DecodeError, RegistryError } from './errors.ts';
import { ALL_TOPICS, type Topic, subjectOf } from './topics.ts';

/**
 * The part of `SchemaRegistry` the contracts use. Pass a real
 * `new SchemaRegistry({ host })`; tests may pass `MemoryRegistry` from `@crm/contracts/testing`.
 */
export type RegistryClient = Pick<SchemaRegistry, 'getSchema' | 'register' | 'getRegistryIdBySchema'>;

type RawAvroSchema = Parameters<SchemaRegistry['getRegistryIdBySchema']>[1];

/** HTTP statuses after which repeating the same request cannot succeed: bad credentials or permissions. */
const PERMANENT_STATUSES = new Set([401, 403]);
/** ... and, for a write, a schema the registry refuses (incompatible: 409, invalid: 422). */
const PERMANENT_WRITE_STATUSES = new Set([409, 422]);

/** Schema ids per registry client and topic, so each process registers/looks up once. */
const idCache = new WeakMap<RegistryClient, Map<Topic, Promise<number>>>();

/**
 * The registry id of our schema for `topic`: looked up under `<topic>-value`, registered there
 * when absent; cached per client. Throws RegistryError.
 */
export function schemaIdFor(registry: RegistryClient, topic: Topic): Promise<number> {
  let perTopic = idCache.get(registry);
  if (perTopic === undefined) {
    perTopic = new Map();
    idCache.set(registry, perTopic);
  }
  let id = perTopic.get(topic);
  if (id === undefined) {
    id = lookupOrRegister(registry, topic);
    // A failed attempt is not cached: the next call tries again.
    id.catch(() => perTopic.delete(topic));
    perTopic.set(topic, id);
  }
  return id;
}

/** Registers (or finds) the schema of every topic; returns the schema id per topic. Throws RegistryError. */
export async function registerSchemas(registry: RegistryClient): Promise<Record<Topic, number>> {
  const entries = await Promise.all(ALL_TOPICS.map(async (topic) => [topic, await schemaIdFor(registry, topic)] as const));
  return Object.fromEntries(entries) as Record<Topic, number>;
}

async function lookupOrRegister(registry: RegistryClient, topic: Topic): Promise<number> {
  const subject = subjectOf(topic);
  const schema = loadAvroSchema(topic) as unknown as RawAvroSchema;
  try {
    return await registry.getRegistryIdBySchema(subject, schema);
  } catch (err) {
    // The client turns a 404 (subject or schema not there yet) into a status-less ConfluentSchemaRegistryError.
    const status = httpStatus(err);
    const notFound = status === 404 || (status === null && errorName(err) === 'ConfluentSchemaRegistryError');
    if (!notFound) throw registryFailure(`looking up the schema of subject ${subject} failed`, subject, err, false);
  }
  try {
    const { id } = await registry.register(schema, { subject });
    return id;
  } catch (err) {
    throw registryFailure(`registering the schema of subject ${subject} failed`, subject, err, true);
  }
}

/**
 * Writer schemas per registry client and schema id, once fetched: a registry never changes the
 * schema of an id, and asking the client (its own cache, behind a few promises) for every
 * record was a visible part of decoding. Failures are not kept: they are asked again.
 */
const writerCache = new WeakMap<RegistryClient, Map<number, AvroType>>();

/** The writer schema of `schemaId` when writerTypeOf has already fetched it from `registry`. */
export function knownWriterType(registry: RegistryClient, schemaId: number): AvroType | undefined {
  return writerCache.get(registry)?.get(schemaId);
}

/**
 * The writer schema of a wire-format record. A 404 is the record's fault (DecodeError
 * 'unknown_schema'); any other HTTP failure is the registry's (RegistryError, thrown).
 */
export async function writerTypeOf(registry: RegistryClient, schemaId: number, topic: Topic): Promise<AvroType | DecodeError> {
  const type = await fetchWriterType(registry, schemaId, topic);
  if (type instanceof DecodeError) return type;
  let perId = writerCache.get(registry);
  if (perId === undefined) {
    perId = new Map();
    writerCache.set(registry, perId);
  }
  perId.set(schemaId, type);
  return type;
}

async function fetchWriterType(registry: RegistryClient, schemaId: number, topic: Topic): Promise<AvroType | DecodeError> {
  // Registry ids are positive; do not ask the registry about ids that cannot exist.
  if (schemaId <= 0) {
    return new DecodeError('unknown_schema', `schema id ${schemaId} is not a valid registry id`, { topic, schemaId });
  }
  let schema: unknown;
  try {
    schema = await registry.getSchema(schemaId);
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404) {
      return new DecodeError('unknown_schema', `schema id ${schemaId} is not in the registry`, { topic, schemaId, cause: err });
    }
    if (status !== null) throw registryFailure(`fetching schema id ${schemaId} failed`, `schema id ${schemaId}`, err, false);
    // No HTTP status: the registry answered, but the client could not build a schema from the answer
    // (unparsable or unsupported schema). Deterministic, so the record is dead-lettered, not retried.
    return new DecodeError('unsupported_schema', `schema id ${schemaId} cannot be used: ${messageOf(err)}`, { topic, schemaId, cause: err });
  }
  if (!isAvroType(schema)) {
    return new DecodeError('unsupported_schema', `schema id ${schemaId} is not an Avro schema`, { topic, schemaId });
  }
  return schema;
}

function registryFailure(what: string, target: string, err: unknown, isWrite: boolean): RegistryError {
  const status = httpStatus(err);
  const permanent =
    errorName(err) === 'ConfluentSchemaRegistryCompatibilityError' ||
    (status !== null && (PERMANENT_STATUSES.has(status) || (isWrite && PERMANENT_WRITE_STATUSES.has(status))));
  return new RegistryError(`${what}: ${messageOf(err)}`, { retriable: !permanent, status, target, cause: err });
}

/** The HTTP status the registry client attached to an error (its ResponseError has `status`). */
function httpStatus(err: unknown): number | null {
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number') return err.status;
  return null;
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
