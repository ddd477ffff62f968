#!/usr/bin/env node
/**
 * `node services/demo/src/main.ts` (with KAFKA_BROKERS, REDIS_URL and optionally
 * SCHEMA_REGISTRY_URL set, e.g. by `node infra/src/cli.ts run -- …`): the live demo.
 * Ctrl-C or SIGTERM stops it cleanly (exit 0); a second signal or 30 s force the exit.
 */
import { ConfigError } from '@crm/segmenter';
import { DemoConfigError, loadDemoConfig } from './config.ts';
import { Demo } from './demo.ts';

/** Longest graceful stop before the process exits anyway. */
const FORCE_EXIT_MS = 30_000;

let config: ReturnType<typeof loadDemoConfig>;
try {
  config = loadDemoConfig();
} catch (err) {
  if (err instanceof DemoConfigError || err instanceof ConfigError) {
    console.error(`demo: ${err.message}`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const demo = new Demo(config, process.stdout);
// Whatever happens, the terminal gets its cursor and full scroll region back.
process.on('exit', () => demo.screen.release());

let stopping = false;
const stop = (why: string, code: number) => {
  if (stopping) {
    console.error(`demo: ${why} again: exiting now`);
    process.exit(1);
  }
  stopping = true;
  demo.screen.notice(`demo: ${why}: stopping (traffic, segmenter, consumers${config.keep ? '' : ', then deleting this run’s topics and keys'})…`);
  setTimeout(() => {
    console.error('demo: graceful stop took longer than 30 s: exiting');
    process.exit(1);
  }, FORCE_EXIT_MS).unref();
  demo.stop().then(
    () => {
      console.log('demo: stopped');
      process.exit(code);
    },
    (err: unknown) => {
      console.error('demo: stop failed:', err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT', 0));
process.on('SIGTERM', () => stop('SIGTERM', 0));

try {
  await demo.start();
} catch (err) {
  console.error(`demo: failed to start: ${err instanceof Error ? err.message : String(err)} (details in ${config.logFile})`);
  stopping = true;
  await demo.stop().catch(() => undefined);
  process.exit(1);
}
demo.feeding().catch((err: unknown) => {
  if (stopping) return;
  console.error(`demo: producing failed: ${err instanceof Error ? err.message : String(err)} (details in ${config.logFile})`);
  stop('producing failed', 1);
});
