/**
 * Entry point: `node services/lag-monitor/src/main.ts`. Configuration from the environment
 * (see config.ts and the README); SIGTERM/SIGINT stop gracefully, a second signal or 30 s
 * force the exit.
 */
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logging.ts';
import { LagMonitor } from './service.ts';

/** Longest graceful stop before the process exits anyway. */
const FORCE_EXIT_MS = 30_000;

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`lag-monitor: ${err.message}`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}
const log = createLogger(config.logLevel);
const monitor = new LagMonitor(config, log);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  log.info({ signal }, 'stopping');
  setTimeout(() => {
    log.error('graceful stop took longer than 30 s: exiting');
    process.exit(1);
  }, FORCE_EXIT_MS).unref();
  monitor.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err }, 'stop failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

try {
  await monitor.start();
} catch (err) {
  log.fatal({ err }, 'lag monitor failed to start');
  process.exit(1);
}
