/**
 * A service run by runService, for run.test.ts, which starts it as a child process and
 * signals it. FIXTURE_START and FIXTURE_STOP choose how start and stop behave;
 * FIXTURE_FORCE_EXIT_MS shortens the forced exit.
 */
import { z } from 'zod';
import { ConfigError, intVar, parseEnv } from './config.ts';
import { createLogger } from './logging.ts';
import { DEFAULT_FORCE_EXIT_MS, runService } from './run.ts';

const Schema = z.object({
  FIXTURE_START: z.enum(['ok', 'fail', 'config']).default('ok'),
  FIXTURE_STOP: z.enum(['ok', 'fail', 'hang']).default('ok'),
});

await runService({
  name: 'fixture',
  load: () => parseEnv(Schema, process.env),
  logger: () => createLogger('fixture', 'info', ['customerId']),
  create: (config, log) => {
    let alive: NodeJS.Timeout | undefined;
    return {
      start: async () => {
        if (config.FIXTURE_START === 'fail') throw new Error('cannot connect');
        if (config.FIXTURE_START === 'config') throw new ConfigError('FIXTURE_TOPICS: not co-partitioned');
        // What a service's sockets do: keep the process alive until stopped.
        alive = setInterval(() => {}, 60_000);
        log.info({ customerId: 'jane.doe@example.com' }, 'started');
      },
      stop: async () => {
        if (config.FIXTURE_STOP === 'fail') throw new Error('cannot flush');
        if (config.FIXTURE_STOP === 'hang') return new Promise<void>(() => {});
        clearInterval(alive);
      },
    };
  },
  startFailure: 'fixture failed to start',
  forceExitMs: intVar(50, 60_000).default(DEFAULT_FORCE_EXIT_MS).parse(process.env['FIXTURE_FORCE_EXIT_MS']),
});
