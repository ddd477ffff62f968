/**
 * Batches of Kafka records for a long producing loop (`crm import orders`), kept out of the way
 * of V8's young generation. V8 doubles the young generation whenever enough bytes survive its
 * scavenges, and a pipelined producer allocates while a batch is in flight: fresh message objects
 * and value buffers per batch would be copied by every scavenge during the next batch's assembly,
 * and the process would grow with the length of the run. Here a record's bytes are copied into a
 * fixed slot of one buffer, and the message objects and the buffer views they point at are made
 * once and reused, so a queued or in-flight batch holds no young objects. The producer's
 * partitioner (@crm/store keyedPartitioner) spares kafkajs's per-record garbage.
 */
import type { Message } from 'kafkajs';

/** Bytes of a record's slot: an imported order's key and value take ~120 in Avro, ~400 in JSON. */
export const SLOT_BYTES = 1_024;
/** Bytes of a slot for the key (a customer id: at most 128 characters); the value takes the rest. */
export const KEY_BYTES = 128;
/** Most views kept: more lengths than this (not seen with orders) start the cache afresh. */
const MAX_VIEWS = 65_536;

/**
 * Up to `capacity` records as kafkajs messages over one buffer: a record's key and value are
 * copied into the key and value parts of its slot, and its message points at them through views
 * cached by position and length. A record too big for its slot keeps its own key and buffer.
 */
export class RecordBuffer {
  private readonly slotBytes: number;
  private readonly keyBytes: number;
  private readonly bytes: Buffer;
  /** Views of `bytes`, by offset and length. */
  private readonly views = new Map<number, Buffer>();
  private readonly pool: Message[];
  count = 0;

  constructor(capacity: number, slotBytes = SLOT_BYTES, keyBytes = KEY_BYTES) {
    this.slotBytes = slotBytes;
    this.keyBytes = keyBytes;
    this.bytes = Buffer.allocUnsafe(slotBytes * capacity);
    this.pool = Array.from({ length: capacity }, () => ({ key: null, value: null }));
  }

  get full(): boolean {
    return this.count === this.pool.length;
  }

  add(key: string, value: Buffer): void {
    if (this.full) throw new Error(`RecordBuffer: more than ${this.pool.length} records`);
    const message = this.pool[this.count] as Message;
    const start = this.count * this.slotBytes;
    this.count++;
    const keyLength = Buffer.byteLength(key);
    if (keyLength > this.keyBytes || value.length > this.slotBytes - this.keyBytes) {
      message.key = key;
      message.value = value;
      return;
    }
    this.bytes.write(key, start);
    value.copy(this.bytes, start + this.keyBytes);
    message.key = this.view(start, keyLength);
    message.value = this.view(start + this.keyBytes, value.length);
  }

  /** The records' messages; they point into the buffer, so they are valid until clear(). */
  messages(): Message[] {
    return this.full ? this.pool : this.pool.slice(0, this.count);
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) {
      const message = this.pool[i] as Message;
      message.key = null;
      message.value = null;
    }
    this.count = 0;
  }

  private view(offset: number, length: number): Buffer {
    const id = offset * (this.slotBytes + 1) + length;
    let view = this.views.get(id);
    if (view === undefined) {
      if (this.views.size >= MAX_VIEWS) this.views.clear();
      view = this.bytes.subarray(offset, offset + length);
      this.views.set(id, view);
    }
    return view;
  }
}

/**
 * Collects records into batches of `batchSize` and sends one while the next is assembled: add()
 * waits while a full batch cannot be sent yet (backpressure). A failed send is reported by the
 * next add() that has to wait for it, or by close().
 */
export class BatchSender {
  private filling: RecordBuffer;
  private spare: RecordBuffer;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly send: (messages: Message[]) => Promise<void>;

  constructor(batchSize: number, send: (messages: Message[]) => Promise<void>) {
    this.filling = new RecordBuffer(batchSize);
    this.spare = new RecordBuffer(batchSize);
    this.send = send;
  }

  async add(key: string, value: Buffer): Promise<void> {
    this.filling.add(key, value);
    if (this.filling.full) await this.flush();
  }

  /** Sends what is left and waits for every send. */
  async close(): Promise<void> {
    await this.flush();
    await this.inFlight;
  }

  private async flush(): Promise<void> {
    // At most one batch in flight: the caller (reading the file) waits here.
    await this.inFlight;
    if (this.filling.count === 0) return;
    const batch = this.filling;
    this.filling = this.spare;
    this.spare = batch;
    this.inFlight = this.send(batch.messages()).finally(() => batch.clear());
    // A failure is reported by the next await of inFlight; keep it from being "unhandled" meanwhile.
    this.inFlight.catch(() => {});
  }
}
