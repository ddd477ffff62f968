/**
 * Entry point: `node services/segmenter/src/main.ts`. Configuration from the environment
 * (see config.ts and the README); SIGTERM/SIGINT stop gracefully, a second signal or 30 s
 * force the exit (@crm/service-kit's runService).
 */
import { CUSTOMER_ID_PATHS, createLogger, runService } from '@crm/service-kit';
import { loadConfig } from './config.ts';
import { Segmenter } from './service.ts';

/** Customer ids are personal data: log paths that may carry them are redacted. */

await runService({
  name: 'segmenter',
  load: () => loadConfig(),
  logger: (config) => createLogger('segmenter', config.logLevel, CUSTOMER_ID_PATHS),
  create: (config, log) => new Segmenter(config, log),
  startFailure: 'segmenter failed to start',
});
