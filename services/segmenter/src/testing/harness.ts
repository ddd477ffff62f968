/**
 * Test harness for the segmenter: an isolated configuration (own topics, group, key prefix)
 * on the real servers, in-process or as a child process that can be SIGKILLed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testEndpoints, uniqueName, silentLogger } from '@crm/testkit';
import { type SegmenterConfig, loadConfig } from '../config.ts';
import { Segmenter } from '../service.ts';

export interface IsolatedEnv {
  env: Record<string, string>;
  config: SegmenterConfig;
}

/** Environment of a segmenter isolated from every other test. */
export function isolatedEnv(overrides: Record<string, string> = {}): IsolatedEnv {
  const e = testEndpoints();
  const id = uniqueName('seg');
  const env: Record<string, string> = {
    KAFKA_BROKERS: e.kafkaBrokers,
    REDIS_URL: e.redisUrl,
    SCHEMA_REGISTRY_URL: e.schemaRegistryUrl,
    CRM_GROUP_ID: id,
    CRM_KEY_PREFIX: id,
    CRM_TOPIC_SUFFIX: `.${id}`,
    CRM_PARTITIONS: '3',
    CRM_HTTP_PORT: '0',
    CRM_TIMER_INTERVAL_MS: '100',
    CRM_LOG_LEVEL: 'warn',
    ...overrides,
  };
  return { env, config: loadConfig(env) };
}

/** A segmenter running in this process. */
export async function startInProcess(config: SegmenterConfig): Promise<Segmenter> {
  const s = new Segmenter(config, silentLogger);
  await s.start();
  return s;
}

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

/** A segmenter in a child process (for kill -9), its output appended to `output`. */
export function startChild(env: Record<string, string>, output: string[]): ChildProcess {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  return child;
}
