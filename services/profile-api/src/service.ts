/**
 * The profile API service: a Redis client, the fastify app, start (listen) and a graceful
 * stop (stop accepting, let in-flight requests finish, close Redis).
 */
import type { FastifyInstance } from 'fastify';
import { checkRedisCredentials, logRedisErrors, redisOptions } from '@crm/service-kit';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import type { ProfileApiConfig } from './config.ts';
import { type Metrics, createMetrics } from './metrics.ts';

export class ProfileApi {
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  private readonly redis: Redis;
  private readonly config: ProfileApiConfig;
  private readonly log: Logger;

  constructor(config: ProfileApiConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.metrics = createMetrics();
    // Fail a read fast while Redis is away (the client answers 503) instead of queueing it;
    // the client keeps reconnecting in the background.
    this.redis = new Redis(redisOptions(config.redis, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true }));
    logRedisErrors(this.redis, config.redis, log);
    this.app = buildApp({ config, redis: this.redis, log, metrics: this.metrics });
  }

  /** Connects to Redis and readies the routes; `listen` also opens the port (tests use `app.inject`). */
  async start({ listen = true }: { listen?: boolean } = {}): Promise<void> {
    // Wrong credentials are a configuration error (exit 78, one line naming the variables):
    // connect() only says "Connection is closed", the refusal comes as an 'error' event.
    const credentials = checkRedisCredentials(this.redis, this.config.redis);
    // Awaited below, after connect(): a refusal meanwhile is not an unhandled rejection.
    credentials.catch(() => undefined);
    await this.redis.connect().catch(async (err: unknown) => {
      await credentials;
      throw err;
    });
    await credentials;
    await this.app.ready();
    if (listen) {
      const address = await this.app.listen({ port: this.config.port, host: this.config.host });
      this.log.info({ address, tls: this.config.tls !== null, partitions: this.config.partitions, keyPrefix: this.config.keyPrefix }, 'profile API listening');
    }
  }

  /** The bound port (after start). */
  port(): number {
    const a = this.app.server.address();
    return typeof a === 'object' && a !== null ? a.port : this.config.port;
  }

  async stop(): Promise<void> {
    await this.app.close();
    if (this.redis.status !== 'end') await this.redis.quit();
    this.log.info('profile API stopped');
  }
}
