/**
 * The demo's configuration, from the environment, validated once at start. The segmenter it
 * runs in-process takes its own variables (README, "Configuration"), except those the demo
 * must decide: the stream clock (time is compressed, so wall time would be wrong) and an
 * isolated namespace (topics, consumer group, Redis key prefix) per run.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SegmenterConfig, loadConfig } from '@crm/segmenter';
import { decimalVar, intVar } from '@crm/service-kit';
import { z } from 'zod';

const DAY_MS = 86_400_000;
/** The segmenter's largest CRM_MAX_FUTURE_SKEW_MS (ten years). */
const MAX_SKEW_MS = 315_576_000_000;

const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

const Env = z.object({
  /** Most events produced per wall second (a cap: when it binds, simulated time slows down). */
  DEMO_RATE: intVar(1, 100_000).default(400),
  /** Simulated days per wall second. */
  DEMO_DAYS_PER_SECOND: decimalVar(0.001, 365).default(2),
  /** Customers acquired over the simulated period. */
  DEMO_CUSTOMERS: intVar(1, 10_000_000).default(40_000),
  /** Seed of the generated histories (the same seed, the same customers). */
  DEMO_SEED: intVar(0, 0xffff_ffff).default(1),
  /** Simulated time starts this many days before now. */
  DEMO_START_DAYS_AGO: decimalVar(0, 36_500).default(730),
  /** Length of the simulated period (days); traffic ends there. */
  DEMO_DAYS: decimalVar(0.001, 36_500).default(1095),
  /** Change lines printed per wall second at most (0: all); the rest still count in the tally. */
  DEMO_MAX_LINES_PER_SECOND: intVar(0, 100_000).default(40),
  /** How often the tally is drawn (ms). */
  DEMO_TALLY_INTERVAL_MS: intVar(100, 600_000).optional(),
  /** The segmenter's JSON logs go here (default: a file in the temp directory). */
  DEMO_LOG_FILE: z.string().min(1).optional(),
  /** Keep the run's topics, consumer groups and Redis keys at exit (default: delete them). */
  DEMO_KEEP: flag.default(false),
  /** Names this run's topics, group and keys (default: random). */
  DEMO_RUN_ID: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'must be 1-32 lowercase letters, digits or -')
    .optional(),
  /** The in-process segmenter's /metrics port (0: any free port; a segmenter may already serve 9464). */
  DEMO_HTTP_PORT: intVar(0, 65535).default(0),
  /** ANSI screen (tally pinned at the bottom): auto = when stdout is a terminal. */
  DEMO_SCREEN: z.enum(['auto', 'ansi', 'plain']).default('auto'),
});

export interface DemoConfig {
  runId: string;
  rate: number;
  daysPerSecond: number;
  customers: number;
  seed: number;
  /** Simulated start (epoch ms, whole day) and period length (days). */
  simStart: number;
  days: number;
  maxLinesPerSecond: number;
  tallyIntervalMs: number;
  logFile: string;
  keep: boolean;
  ansi: boolean;
  segmenter: SegmenterConfig;
}

export class DemoConfigError extends Error {
  override name = 'DemoConfigError';
}

/**
 * Validates the environment; throws DemoConfigError naming each bad variable (the segmenter's
 * own variables are checked by its loadConfig, whose ConfigError passes through).
 */
export function loadDemoConfig(env: NodeJS.ProcessEnv = process.env, now = Date.now(), isTty = Boolean(process.stdout.isTTY)): DemoConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message} (got "${env[String(i.path[0])]}")`);
    throw new DemoConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const runId = e.DEMO_RUN_ID ?? `${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
  const ansi = e.DEMO_SCREEN === 'ansi' || (e.DEMO_SCREEN === 'auto' && isTty);
  const simStart = Math.floor((now - e.DEMO_START_DAYS_AGO * DAY_MS) / DAY_MS) * DAY_MS;
  const segmenter = loadConfig({
    CRM_PARTITIONS: '3',
    // Simulated time runs ahead of the wall clock (by a year, by default). The segmenter refuses
    // events too far ahead of max(wall clock, stream time); at a low rate a partition may see no
    // event for several simulated days, so allow the whole simulated future (at most ten years).
    CRM_MAX_FUTURE_SKEW_MS: String(Math.min(MAX_SKEW_MS, Math.max(DAY_MS, simStart + e.DEMO_DAYS * DAY_MS - now + DAY_MS))),
    // Timers checked often: at 2 simulated days a second, 200 ms is ~10 simulated hours.
    CRM_TIMER_INTERVAL_MS: '200',
    CRM_LOG_LEVEL: 'info',
    ...env,
    // The demo's own, whatever the environment says: compressed time needs the stream clock,
    // and each run gets fresh topics, group and keys (reruns start from nothing).
    CRM_CLOCK: 'stream',
    CRM_MODE: 'live',
    CRM_GROUP_ID: `crm-demo-${runId}`,
    CRM_KEY_PREFIX: `crm-demo-${runId}`,
    CRM_TOPIC_SUFFIX: `.demo-${runId}`,
    CRM_HTTP_PORT: String(e.DEMO_HTTP_PORT),
  });
  return {
    runId,
    rate: e.DEMO_RATE,
    daysPerSecond: e.DEMO_DAYS_PER_SECOND,
    customers: e.DEMO_CUSTOMERS,
    seed: e.DEMO_SEED,
    simStart,
    days: e.DEMO_DAYS,
    maxLinesPerSecond: e.DEMO_MAX_LINES_PER_SECOND,
    tallyIntervalMs: e.DEMO_TALLY_INTERVAL_MS ?? (ansi ? 500 : 5000),
    logFile: e.DEMO_LOG_FILE ?? join(tmpdir(), `crm-demo-${runId}.log`),
    keep: e.DEMO_KEEP,
    ansi,
    segmenter,
  };
}
