/**
 * Reads a topic up to the end offsets it has when the read starts (optionally only the last
 * N records of each partition), with a throwaway consumer group that commits nothing and is
 * deleted afterwards. Its name does not start with 'crm-', so lag views never list it.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { connectKafka, withAdmin } from './clients.ts';
import type { CliConfig } from './config.ts';
import { CliError } from './errors.ts';

export interface ReadRecord {
  partition: number;
  message: KafkaMessage;
}

/** Longest wait for the records below the end offsets (they exist: only a broken broker is slower). */
const READ_TIMEOUT_MS = 30_000;

export async function readTopicToEnd(config: CliConfig, kafka: Kafka, topic: string, options: { lastPerPartition?: number } = {}): Promise<ReadRecord[]> {
  const bounds = await withAdmin(
    config,
    async (admin) => {
      if (!(await admin.listTopics()).includes(topic)) throw new CliError(`topic ${topic} does not exist (crm topics create)`);
      return (await admin.fetchTopicOffsets(topic)).map((o) => {
        const high = BigInt(o.high);
        const low = BigInt(o.low);
        const n = options.lastPerPartition;
        const start = n === undefined ? low : high - BigInt(n) > low ? high - BigInt(n) : low;
        return { partition: o.partition, start, high };
      });
    },
    kafka,
  );
  const pending = new Map(bounds.filter((b) => b.start < b.high).map((b) => [b.partition, b]));
  if (pending.size === 0) return [];

  const groupId = `crm.cli-read-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await connectKafka(config, () => consumer.connect());
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const b = pending.get(batch.partition);
        if (b === undefined) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset >= b.start && offset < b.high) records.push({ partition: batch.partition, message });
          if (offset >= b.high - 1n) {
            pending.delete(batch.partition);
            if (pending.size === 0) finish();
            break;
          }
        }
      },
    });
    for (const b of pending.values()) consumer.seek({ topic, partition: b.partition, offset: b.start.toString() });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CliError(`reading ${topic} timed out after ${READ_TIMEOUT_MS / 1000} s (${records.length} records read)`)),
        READ_TIMEOUT_MS,
      );
    });
    await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
    await withAdmin(config, (admin) => admin.deleteGroups([groupId]), kafka).catch(() => {});
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.message.offset) - BigInt(b.message.offset)));
}
