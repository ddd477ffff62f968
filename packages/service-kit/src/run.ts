/**
 * A service's process from boot to exit: load the configuration (exit 78, EX_CONFIG, naming
 * the variables, when it is bad), create the logger and the service, start it (exit 1 when
 * that fails, 78 when it fails on a ConfigError or on settings Kafka refuses: credentials,
 * an untrusted certificate), and stop gracefully on SIGTERM or SIGINT
 * (exit 0). A second signal, a failed stop or a stop longer than `forceExitMs` exits 1.
 */
import type { Logger } from 'pino';
import { ConfigError } from './config.ts';
import { describeStartFailure } from './connections.ts';

/** EX_CONFIG from sysexits.h: the configuration is wrong, restarting will not help. */
export const EXIT_CONFIG = 78;

/** Longest graceful stop by default before the process exits anyway. */
export const DEFAULT_FORCE_EXIT_MS = 30_000;

export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceDefinition<C> {
  /** Prefix of the configuration error on stderr: `<name>: invalid configuration: ...`. */
  name: string;
  /** Reads and validates the configuration; throws ConfigError when it is bad. */
  load: () => C;
  logger: (config: C) => Logger;
  create: (config: C, log: Logger) => Lifecycle;
  /** The fatal log message when start fails on anything but a ConfigError. */
  startFailure: string;
  forceExitMs?: number;
}

/** Runs the service until a signal stops it; never returns normally once started. */
export async function runService<C>(def: ServiceDefinition<C>): Promise<void> {
  let config: C;
  try {
    config = def.load();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${def.name}: ${err.message}`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  const log = def.logger(config);
  const service = def.create(config, log);
  const forceExitMs = def.forceExitMs ?? DEFAULT_FORCE_EXIT_MS;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    setTimeout(() => {
      log.error(`graceful stop took longer than ${forceExitMs / 1000} s: exiting`);
      process.exit(1);
    }, forceExitMs).unref();
    service.stop().then(
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
    await service.start();
  } catch (err) {
    // A refused or failed connection: one line naming the variables to check, no stack.
    const failure = err instanceof ConfigError ? undefined : describeStartFailure(err);
    if (failure !== undefined) {
      log.fatal({ reason: failure.reason }, `${def.startFailure}: ${failure.reason}`);
      process.exit(failure.config ? EXIT_CONFIG : 1);
    }
    log.fatal({ err }, err instanceof ConfigError ? err.message : def.startFailure);
    process.exit(err instanceof ConfigError ? EXIT_CONFIG : 1);
  }
}
