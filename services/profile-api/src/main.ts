/**
 * Entry point: `node services/profile-api/src/main.ts`. Configuration from the environment
 * (see config.ts and the README); SIGTERM/SIGINT stop gracefully (in-flight requests finish),
 * a second signal or 10 s force the exit (@crm/service-kit's runService).
 */
import { createLogger, runService } from '@crm/service-kit';
import { loadConfig } from './config.ts';
import { REDACT } from './logging.ts';
import { ProfileApi } from './service.ts';

await runService({
  name: 'profile-api',
  load: () => loadConfig(),
  logger: (config) => createLogger('profile-api', config.logLevel, REDACT),
  create: (config, log) => new ProfileApi(config, log),
  startFailure: 'profile API failed to start',
  // Reads take milliseconds: a stop longer than this is stuck.
  forceExitMs: 10_000,
});
