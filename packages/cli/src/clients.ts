/**
 * Clients of the servers, tuned for a short-lived command: few retries and short timeouts, so
 * a server that is down becomes one clear error within seconds instead of a minute of retries.
 */
import { describeKafkaFailure, describeRedisError, kafkaOptions, redisRefusedCredentials, redisOptions, registryOptions } from '@crm/service-kit';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import type { CliConfig } from './config.ts';
import { CliError, oneLine } from './errors.ts';

/** Connection attempts before a command gives up on a broker: ~3 s in all with kafkajs' backoff. */
const KAFKA_RETRIES = 3;

export function kafkaClient(config: CliConfig): Kafka {
  return new Kafka(
    kafkaOptions(config.kafka, {
      clientId: 'crm-cli',
      connectionTimeout: 3_000,
      retry: { retries: KAFKA_RETRIES, initialRetryTime: 200 },
      // Errors surface as rejected promises and become one line on stderr.
      logLevel: logLevel.NOTHING,
    }),
  );
}

export function registryClient(config: CliConfig): SchemaRegistry | undefined {
  return config.registry === null ? undefined : new SchemaRegistry(registryOptions(config.registry));
}

/** Runs `fn` with a connected admin client; a broker that cannot be reached becomes a CliError. */
export async function withAdmin<T>(config: CliConfig, fn: (admin: Admin) => Promise<T>, kafka = kafkaClient(config)): Promise<T> {
  const admin = kafka.admin();
  await connectKafka(config, () => admin.connect());
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function connectKafka(config: CliConfig, connect: () => Promise<void>): Promise<void> {
  try {
    await connect();
  } catch (err) {
    throw kafkaError(config, err, `cannot reach Kafka at ${config.kafka.brokers.join(',')}: ${oneLine(err)} (is it running? crm infra status)`);
  }
}

/**
 * A Kafka failure as the CLI's error: refused credentials or an untrusted certificate name the
 * variables to check (exit 2, a usage error, like a refused Redis password); anything else is `otherwise`.
 */
export function kafkaError(config: CliConfig, err: unknown, otherwise: string): CliError {
  const failure = describeKafkaFailure(err);
  if (failure === undefined) return new CliError(otherwise, { cause: err });
  return new CliError(`${failure.reason} (KAFKA_BROKERS ${config.kafka.brokers.join(',')})`, { exitCode: failure.config ? 2 : 1, cause: err });
}

/** A connected Redis client that fails fast instead of reconnecting forever. */
export async function redisClient(config: CliConfig): Promise<Redis> {
  const redis = new Redis(redisOptions(config.redis, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 3_000 }));
  // Connection errors reject connect() below; without a listener ioredis would also print them.
  // The cause arrives here (connect() itself only says "Connection is closed.").
  let last: Error | undefined;
  redis.on('error', (err: Error) => {
    last = err;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const cause = last ?? (err as Error);
    // A refused password is the configuration's fault: a usage error, like a bad variable.
    if (redisRefusedCredentials(cause)) throw new CliError(describeRedisError(cause, config.redis), { exitCode: 2, cause });
    throw new CliError(`cannot reach ${describeRedisError(cause, config.redis)} (is it running? crm infra status)`, { cause });
  }
  return redis;
}

/** Runs `fn` with a connected Redis client, then closes it. */
export async function withRedis<T>(config: CliConfig, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = await redisClient(config);
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}
