/**
 * Which partition holds a customer: Kafka's default partitioner for keyed records, which the
 * segmenter's input topics are produced with (Java client `BuiltInPartitioner`, kafkajs
 * `DefaultPartitioner`): `toPositive(murmur2(utf8(key))) % partitions`. Readers (the profile
 * API, `crm customer show`) use it to find a customer's `{p}` keys without asking Kafka, and
 * our producers (the segmenter's relay, `crm import`) use it as their kafkajs partitioner.
 */
import { type ICustomPartitioner, Partitioners } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`): MurmurHash2, 32-bit, seed
 * 0x9747b28c, as a signed 32-bit integer, of the first `length` bytes of `data`. `Math.imul` is
 * Java's wrapping int multiplication.
 */
export function murmur2(data: Uint8Array, length: number = data.length): number {
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4] as number) | ((data[i4 + 1] as number) << 8) | ((data[i4 + 2] as number) << 16) | ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    case 3:
      h ^= (data[tail + 2] as number) << 16;
      h ^= (data[tail + 1] as number) << 8;
      h ^= data[tail] as number;
      h = Math.imul(h, M);
      break;
    case 2:
      h ^= (data[tail + 1] as number) << 8;
      h ^= data[tail] as number;
      h = Math.imul(h, M);
      break;
    case 1:
      h ^= data[tail] as number;
      h = Math.imul(h, M);
      break;
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const utf8 = new TextEncoder();

/**
 * Where a string key's UTF-8 bytes are written before hashing: TextEncoder.encode allocates an
 * array per key and costs more than the hash itself (about 0.5 µs a key, on every record the
 * relay produces). Only used synchronously, so one per process serves every caller.
 */
let scratch = new Uint8Array(256);

/** Writes the UTF-8 bytes of `key` into `scratch` (grown when short); returns how many. */
function utf8Into(key: string): number {
  const n = key.length;
  if (scratch.length < 3 * n) scratch = new Uint8Array(3 * n); // UTF-8 takes at most 3 bytes per UTF-16 unit
  return utf8.encodeInto(key, scratch).written;
}

/** The partition Kafka's default partitioner gives a record keyed `key` (a string: its UTF-8 bytes) on a topic of `partitions` partitions. */
export function partitionFor(key: string | Uint8Array, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  if (typeof key !== 'string') return (murmur2(key) & 0x7fffffff) % partitions;
  const length = utf8Into(key); // first: it may replace scratch
  return (murmur2(scratch, length) & 0x7fffffff) % partitions;
}

/**
 * kafkajs's DefaultPartitioner (Kafka's: `toPositive(murmur2(key)) % partitions` for a keyed
 * record), without the garbage it makes per record (a filtered copy of the partition list and
 * Long arithmetic for the hash). Records with a partition or without a key go to kafkajs's.
 */
export const keyedPartitioner: ICustomPartitioner = () => {
  const kafkajs = Partitioners.DefaultPartitioner();
  return (args) => {
    const { key, partition } = args.message;
    if (partition !== undefined || key === null || key === undefined) return kafkajs(args);
    return partitionFor(key, args.partitionMetadata.length);
  };
};
