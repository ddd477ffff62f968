/**
 * Loads the Avro schemas under /schemas (the source of truth for every topic's shape) and
 * compiles them with avsc. Files are named after their topic: schemas/<topic>.avsc.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { Topic } from './topics.ts';

/** The parsed JSON of a top-level .avsc file: always a named record. */
export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly namespace?: string;
  readonly doc?: string;
  readonly fields: readonly AvroField[];
}
export interface AvroField {
  readonly name: string;
  readonly type: unknown;
  readonly default?: unknown;
  readonly doc?: string;
}

export type AvroType = avro.Type;
export type AvroResolver = ReturnType<avro.Type['createResolver']>;

/** Directory holding the .avsc files, resolved from this file so it works from any cwd. */
export const SCHEMA_DIR: URL = new URL('../../../schemas/', import.meta.url);

const parsed = new Map<Topic, AvroRecordSchema>();
const compiled = new Map<Topic, AvroType>();

/** The Avro schema (parsed JSON) of a topic, read once from schemas/<topic>.avsc. */
export function loadAvroSchema(topic: Topic): AvroRecordSchema {
  let schema = parsed.get(topic);
  if (schema === undefined) {
    const file = new URL(`${topic}.avsc`, SCHEMA_DIR);
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isRecordSchema(json)) throw new Error(`${file.pathname}: top-level Avro schema must be a named record`);
    schema = json;
    parsed.set(topic, schema);
  }
  return schema;
}

/** The compiled avsc Type of a topic's schema (the reader schema when decoding). */
export function avroType(topic: Topic): AvroType {
  let type = compiled.get(topic);
  if (type === undefined) {
    type = avro.Type.forSchema(loadAvroSchema(topic) as unknown as avro.Schema);
    compiled.set(topic, type);
  }
  return type;
}

/** True when `x` is an avsc Type (what the registry client returns for an Avro schema id). */
export function isAvroType(x: unknown): x is AvroType {
  return avro.Type.isType(x);
}

function isRecordSchema(x: unknown): x is AvroRecordSchema {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return o['type'] === 'record' && typeof o['name'] === 'string' && Array.isArray(o['fields']);
}
