/**
 * `crm replay`: runs the segmenter in backfill mode (CRM_MODE=backfill): it rebuilds state from
 * the beginning of the input topics quietly (no segment changes for history), then goes live.
 * With --until-live the command stops the segmenter as soon as it has caught up (the log line
 * 'backfill complete: live') and exits 0; without it the segmenter keeps running live until
 * Ctrl-C. A group that has committed offsets resumes from them: to rebuild from scratch give
 * a new --group and --key-prefix, then point the services at that prefix.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { redactSecrets } from '@crm/service-kit';
import type { CliConfig } from '../config.ts';
import { CliError } from '../errors.ts';
import { type Io, println } from '../io.ts';

/** The segmenter logs this (pino `msg`) when backfill reached the end offsets seen at its start. */
export const LIVE_MESSAGE = 'backfill complete: live';

export interface ReplayOptions {
  group?: string;
  keyPrefix?: string;
  untilLive?: boolean;
  print?: boolean;
}

/** The segmenter's entry point, found through the package (no repository layout assumed). */
export function segmenterMain(): string {
  const index = createRequire(import.meta.url).resolve('@crm/segmenter');
  return join(dirname(index), 'main.ts');
}

/** Environment of the replaying segmenter: the CLI's settings, backfill mode, the overrides. */
export function replayEnv(io: Io, config: CliConfig, options: ReplayOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(io.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, {
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    REDIS_URL: config.redisUrl,
    CRM_KEY_PREFIX: options.keyPrefix ?? config.keyPrefix,
    CRM_TOPIC_SUFFIX: config.topicSuffix,
    CRM_GROUP_ID: options.group ?? config.groupId,
    CRM_MODE: 'backfill',
    // A running segmenter owns the default metrics port: take any free one unless told.
    CRM_HTTP_PORT: io.env['CRM_HTTP_PORT'] ?? '0',
  });
  if (config.schemaRegistryUrl === null) delete env['SCHEMA_REGISTRY_URL'];
  else env['SCHEMA_REGISTRY_URL'] = config.schemaRegistryUrl;
  // --until-live watches the info-level line that announces the switch.
  if (options.untilLive && !['debug', 'trace', 'info'].includes(env['CRM_LOG_LEVEL'] ?? 'info')) env['CRM_LOG_LEVEL'] = 'info';
  return env;
}

export async function replay(io: Io, config: CliConfig, options: ReplayOptions): Promise<number> {
  const main = segmenterMain();
  const env = replayEnv(io, config, options);
  const shown = ['KAFKA_BROKERS', 'REDIS_URL', 'SCHEMA_REGISTRY_URL', 'CRM_KEY_PREFIX', 'CRM_TOPIC_SUFFIX', 'CRM_GROUP_ID', 'CRM_MODE', 'CRM_HTTP_PORT']
    .filter((k) => env[k] !== undefined && env[k] !== '')
    // A URL's password stays out of the printed command (the child still gets it).
    .map((k) => redactSecrets(`${k}=${env[k]}`))
    .join(' ');
  const command = `${shown} node ${main}`;
  if (options.print) {
    println(io.stdout, command);
    return 0;
  }
  if (options.group === undefined) {
    io.stderr.write(
      `replay: group ${env['CRM_GROUP_ID']} resumes from its committed offsets, if any; give --group and --key-prefix new names to rebuild from the beginning\n`,
    );
  }
  io.stderr.write(`replay: ${command}\n`);
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  let live = false;
  child.stderr.on('data', (d: Buffer) => io.stderr.write(d.toString()));
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    println(io.stdout, line);
    if (options.untilLive && !live && isLiveLine(line)) {
      live = true;
      child.kill('SIGTERM');
    }
  });
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    if (options.untilLive && live) {
      io.stderr.write('replay: caught up, segmenter stopped\n');
      return code === 0 ? 0 : code;
    }
    if (code !== 0) throw new CliError(`segmenter exited with code ${code}`);
    return 0;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

export function isLiveLine(line: string): boolean {
  if (!line.includes(LIVE_MESSAGE)) return false;
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === LIVE_MESSAGE;
  } catch {
    return false;
  }
}
