/**
 * Test doubles for code that uses the contracts without a schema-registry server
 * (import from '@crm/contracts/testing'; never in production code).
 */
import avro from 'avsc';
import type { RegistryClient } from './registry.ts';

export { encodeWireFormat } from './wire.ts';

/** An HTTP-like failure, shaped like the registry client's ResponseError (it carries `status`). */
export class FakeHttpError extends Error {
  declare readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ResponseError';
    this.status = status;
  }
}

/**
 * An in-memory schema registry with the subset of the @kafkajs/confluent-schema-registry API the
 * contracts use. Same schema text under the same subject gets the same id, like a real registry.
 * Set `failWith` to make every call fail (e.g. `new FakeHttpError(503, ...)`) to test outages.
 */
export class MemoryRegistry implements RegistryClient {
  /** When set, every call throws it. */
  failWith: Error | null = null;
  readonly #schemas = new Map<number, { text: string; type: avro.Type }>();
  readonly #subjects = new Map<string, number[]>();
  #nextId: number;

  constructor(options: { firstId?: number } = {}) {
    this.#nextId = options.firstId ?? 1;
  }

  async register(schema: unknown, options?: { subject?: string }): Promise<{ id: number }> {
    this.#maybeFail();
    const subject = options?.subject;
    if (subject === undefined) throw new Error('MemoryRegistry.register needs an explicit subject');
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    const existing = this.#idOf(text);
    const id = existing ?? this.#nextId++;
    if (existing === undefined) this.#schemas.set(id, { text, type: avro.Type.forSchema(JSON.parse(text) as avro.Schema) });
    const versions = this.#subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.#subjects.set(subject, versions);
    return { id };
  }

  async getRegistryIdBySchema(subject: string, schema: unknown): Promise<number> {
    this.#maybeFail();
    const id = this.#idOf(typeof schema === 'string' ? schema : JSON.stringify(schema));
    if (id === undefined || !(this.#subjects.get(subject) ?? []).includes(id)) {
      // What the real client throws for a 404 here: a ConfluentSchemaRegistryError without status.
      const err = new Error(`Schema not found under subject ${subject}`);
      err.name = 'ConfluentSchemaRegistryError';
      throw err;
    }
    return id;
  }

  /** Typed as the client's getSchema; returns the avsc Type like the real client does for Avro. */
  async getSchema(registryId: number): Promise<Awaited<ReturnType<RegistryClient['getSchema']>>> {
    this.#maybeFail();
    const entry = this.#schemas.get(registryId);
    if (entry === undefined) throw new FakeHttpError(404, `Schema ${registryId} not found.`);
    return entry.type as unknown as Awaited<ReturnType<RegistryClient['getSchema']>>;
  }

  /** Subjects and their schema ids, in registration order. */
  listSubjects(): ReadonlyMap<string, readonly number[]> {
    return this.#subjects;
  }

  #idOf(text: string): number | undefined {
    for (const [id, s] of this.#schemas) if (s.text === text) return id;
    return undefined;
  }

  #maybeFail(): void {
    if (this.failWith !== null) throw this.failWith;
  }
}

export {
  amountMinorArb,
  boundedText,
  currencyArb,
  deadLetterEventArb,
  digitsArb,
  eventArb,
  idArb,
  interactionEventArb,
  isoTimeArb,
  orderEventArb,
  profileEventArb,
  segmentChangeEventArb,
  textArb,
  topicEventArb,
} from './arbitraries.ts';
