/**
 * `crm replay`: runs the segmenter in backfill mode (CRM_MODE=backfill): it rebuilds state from
 * the beginning of the input topics quietly (no segment changes for history), then goes live.
 * With --until-live the command stops the segmenter as soon as it has caught up (the log line
 * 'backfill complete: live') and exits 0; without it the segmenter keeps running live until
 * Ctrl-C. With --as-of end|<ISO instant> (CRM_AS_OF) it never goes live: once caught up, the
 * segmenter evaluates every customer of every partition at that one instant (end: the latest
 * event time over all partitions), still quietly, and exits by itself: 0 once no timer is due
 * up to the instant. A group that has committed offsets resumes from them: to rebuild from
 * scratch give a new --group and --key-prefix, then point the services at that prefix.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { isIsoUtc } from '@crm/contracts';
import { AS_OF_MESSAGE } from '@crm/segmenter';
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
  /** 'end' or an ISO-8601 UTC instant: evaluate every customer at it instead of going live. */
  asOf?: string;
  print?: boolean;
}

/** Refuses a bad --as-of and one given with --until-live (usage errors, exit 2). */
function checkOptions(options: ReplayOptions): void {
  const { asOf } = options;
  if (asOf === undefined) return;
  if (asOf !== 'end' && !isIsoUtc(asOf))
    throw new CliError(`--as-of must be end or an ISO-8601 UTC instant, e.g. 2011-12-09T12:50:00Z (got ${JSON.stringify(asOf)})`, { exitCode: 2 });
  if (options.untilLive) throw new CliError('--as-of never goes live: give --as-of or --until-live, not both', { exitCode: 2 });
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
  // Only --as-of makes a replay stop at an instant; without it the replay goes live.
  if (options.asOf === undefined) delete env['CRM_AS_OF'];
  else env['CRM_AS_OF'] = options.asOf;
  if (config.schemaRegistryUrl === null) delete env['SCHEMA_REGISTRY_URL'];
  else env['SCHEMA_REGISTRY_URL'] = config.schemaRegistryUrl;
  // --until-live watches the info-level line that announces the switch, --as-of the one with its instant.
  if ((options.untilLive || options.asOf !== undefined) && !['debug', 'trace', 'info'].includes(env['CRM_LOG_LEVEL'] ?? 'info')) env['CRM_LOG_LEVEL'] = 'info';
  return env;
}

export async function replay(io: Io, config: CliConfig, options: ReplayOptions): Promise<number> {
  checkOptions(options);
  const main = segmenterMain();
  const env = replayEnv(io, config, options);
  const shown = [
    'KAFKA_BROKERS',
    'REDIS_URL',
    'SCHEMA_REGISTRY_URL',
    'CRM_KEY_PREFIX',
    'CRM_TOPIC_SUFFIX',
    'CRM_GROUP_ID',
    'CRM_MODE',
    'CRM_AS_OF',
    'CRM_HTTP_PORT',
  ]
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
  /** The instant an as-of run reported evaluating every customer at. */
  let evaluatedAsOf: string | null | undefined;
  child.stderr.on('data', (d: Buffer) => io.stderr.write(d.toString()));
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    println(io.stdout, line);
    if (options.untilLive && !live && logMessage(line) === LIVE_MESSAGE) {
      live = true;
      child.kill('SIGTERM');
    }
    if (options.asOf !== undefined && logMessage(line)?.startsWith(AS_OF_MESSAGE)) evaluatedAsOf = logField(line, 'asOf');
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
    if (options.asOf !== undefined)
      io.stderr.write(
        evaluatedAsOf ? `replay: every customer evaluated as of ${evaluatedAsOf}, segmenter stopped\n` : 'replay: no event in the topics, segmenter stopped\n',
      );
    return 0;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

export function isLiveLine(line: string): boolean {
  return logMessage(line) === LIVE_MESSAGE;
}

/** The `msg` of a pino JSON line, or undefined for any other line. */
function logMessage(line: string): string | undefined {
  const msg = logField(line, 'msg');
  return typeof msg === 'string' ? msg : undefined;
}

/** A string field of a pino JSON line: its value, null when absent or not a string, undefined when the line is not JSON. */
function logField(line: string, field: string): string | null | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = (JSON.parse(line) as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : null;
  } catch {
    return undefined;
  }
}
