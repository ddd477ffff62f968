/**
 * @crm/service-kit: what every service's process needs, in one place: the environment
 * validated at boot, the connection settings of every client (Kafka, Redis, the registry:
 * TLS, SASL, credentials from files), pino logging with secrets masked (and kafkajs routed
 * into it), the operational HTTP server, and boot and graceful shutdown with the project's
 * exit codes.
 */
export {
  ConfigError,
  decimalVar,
  type Env,
  type EnvIssue,
  formatEnvIssue,
  intVar,
  invalidConfiguration,
  kafkaBrokersVar,
  keyPrefixVar,
  logLevelVar,
  parseEnv,
  readJsonFile,
  redisUrlVar,
  topicSuffixVar,
} from './config.ts';
export { createLogger, loggerOptions, kafkaLogCreator, scrubError, CUSTOMER_ID_PATHS } from './logging.ts';
export { type HttpListen, type JsonReply, type JsonRoutes, type Probes, bearerToken, httpHostVar, metricsToken, startHttp } from './http.ts';
export {
  KAFKA_SECURITY_PROTOCOLS,
  type Connections,
  type KafkaConnection,
  type KafkaSecurityProtocol,
  type RedisConnection,
  type RegistryConnection,
  connections,
  describeKafkaFailure,
  describeStartFailure,
  describeRedisError,
  type ConnectionFailure,
  kafkaConnection,
  kafkaOptions,
  logRedisErrors,
  checkRedisCredentials,
  refusedAsConfigError,
  redisConnection,
  redisOptions,
  redisRefusedCredentials,
  registryConnection,
  registryOptions,
  secretFile,
} from './connections.ts';
export { MASK, maskUrlPasswords, redactSecrets, registerSecret } from './secrets.ts';
export { DEFAULT_FORCE_EXIT_MS, EXIT_CONFIG, type Lifecycle, type ServiceDefinition, runService } from './run.ts';
