/**
 * Entry point: `node services/segmenter/src/main.ts`. Configuration from the environment
 * (see config.ts and the README); SIGTERM/SIGINT stop gracefully, a second signal or 30 s
 * force the exit (@crm/service-kit's runService). With CRM_AS_OF the process stops by itself
 * once every customer is evaluated at the instant (exit 0), or when the run fails (exit 1).
 */
import { CUSTOMER_ID_PATHS, createLogger, runService } from '@crm/service-kit';
import { loadConfig } from './config.ts';
import { Segmenter } from './service.ts';

/** Customer ids are personal data: log paths that may carry them are redacted. */

await runService({
  name: 'segmenter',
  load: () => loadConfig(),
  logger: (config) => createLogger('segmenter', config.logLevel, CUSTOMER_ID_PATHS),
  create: (config, log) => {
    const segmenter = new Segmenter(config, log);
    // CRM_AS_OF: the run ends by itself once every customer is evaluated at the instant.
    void segmenter.finished.then((code) =>
      segmenter.stop().then(
        () => process.exit(code),
        () => process.exit(1),
      ),
    );
    return segmenter;
  },
  startFailure: 'segmenter failed to start',
});
