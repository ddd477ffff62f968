/**
 * @crm/service-kit: what every service's process needs, in one place: the environment
 * validated at boot, pino logging (with kafkajs routed into it), the operational HTTP server,
 * and boot and graceful shutdown with the project's exit codes.
 */
export {
  ConfigError,
  decimalVar,
  type Env,
  type EnvIssue,
  formatEnvIssue,
  intVar,
  kafkaBrokersVar,
  keyPrefixVar,
  logLevelVar,
  parseEnv,
  readJsonFile,
  redisUrlVar,
  topicSuffixVar,
} from './config.ts';
export { createLogger, kafkaLogCreator, CUSTOMER_ID_PATHS } from './logging.ts';
export { type JsonReply, type JsonRoutes, type Probes, startHttp } from './http.ts';
export { DEFAULT_FORCE_EXIT_MS, EXIT_CONFIG, type Lifecycle, type ServiceDefinition, runService } from './run.ts';
