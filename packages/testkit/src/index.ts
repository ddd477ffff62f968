/**
 * Shared helpers of the integration tests: endpoints of the real servers, isolation by random
 * names, topic creation, awaiting a condition, collecting messages, and loggers.
 */
export { type TestEndpoints, endpointConnections, serverVersions } from './endpoints.ts';
export {
  testEndpoints,
  testConnections,
  uniqueName,
  testKafka,
  testRedis,
  testRegistry,
  createTopic,
  waitFor,
  collectMessages,
  readTopic,
  type Collected,
} from './helpers.ts';
export { silentLogger, logSink, type LogSink } from './logs.ts';
export { type NodeProcess, logLine, spawnNode } from './process.ts';
export { freePort, freePorts } from '@crm/infra';
export { type OwnRedis, startOwnRedis } from './redis-server.ts';
export { makeCa, makeSignedCert } from './tls.ts';
export { DAY_MS, type GenerateOptions, generateEvents } from './generate.ts';
export { AofRedis } from './aof-redis.ts';
export { OwnKafka } from './own-kafka.ts';
/** mulberry32: the same seed gives the same stream (the generators' PRNG, under testkit's name). */
export { mulberry32 as prng } from '@crm/sample-data';
export { readSecret, secureKafkaConfig, secureKeyPrefix, secureRedisOptions, secureServers } from './secure.ts';
