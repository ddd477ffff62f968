/**
 * Entry point: `node services/lag-monitor/src/main.ts`. Configuration from the environment
 * (see config.ts and the README); SIGTERM/SIGINT stop gracefully, a second signal or 30 s
 * force the exit (@crm/service-kit's runService).
 */
import { createLogger, runService } from '@crm/service-kit';
import { loadConfig } from './config.ts';
import { LagMonitor } from './service.ts';

await runService({
  name: 'lag-monitor',
  load: () => loadConfig(),
  logger: (config) => createLogger('lag-monitor', config.logLevel),
  create: (config, log) => new LagMonitor(config, log),
  startFailure: 'lag monitor failed to start',
});
