/**
 * Placeholder of the segmenter (issue #4 builds it): proves the run command reaches real
 * Kafka and Redis, then idles until Ctrl-C.
 */
import { endpoints } from '@crm/infra';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';

const e = endpoints();
const brokers = (process.env['KAFKA_BROKERS'] ?? e.kafkaBrokers).split(',');
const redis = new Redis(process.env['REDIS_URL'] ?? e.redisUrl);
const admin = new Kafka({ clientId: 'crm-segmenter', brokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
const cluster = await admin.describeCluster();
console.log(`segmenter placeholder: Kafka cluster ${cluster.clusterId} at ${brokers.join(',')}, Redis ${await redis.ping()}; Ctrl-C to stop`);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await admin.disconnect();
redis.disconnect();
