/**
 * Which partition holds a customer: Kafka's default partitioner (murmur2 of the key's UTF-8
 * bytes, made positive, modulo the partition count), the one every producer of the project
 * uses. kafkajs does not export its murmur2, but it exports the partitioner itself
 * (`Partitioners.DefaultPartitioner`), so the exact producer code is used here with a
 * partition table of `partitions` entries.
 */
import { Partitioners, type PartitionMetadata } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();
const tables = new Map<number, PartitionMetadata[]>();

/** The partition Kafka's default partitioner gives the key `customerId` among `partitions`. */
export function partitionFor(customerId: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  let table = tables.get(partitions);
  if (table === undefined) {
    table = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, partitionErrorCode: 0, leader: 0, replicas: [0], isr: [0] }));
    tables.set(partitions, table);
  }
  return partitioner({ topic: 'crm', partitionMetadata: table, message: { key: customerId, value: null } });
}
