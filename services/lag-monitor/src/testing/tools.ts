/**
 * External tools the lag monitor's tests check against: Kafka's own consumer-groups tool (run
 * from the broker's jars) and Prometheus' promtool. Found or installed the way infra/ finds
 * its servers: promtool comes from Debian's `prometheus` package, installed with apt-get when
 * missing and running as root, else a message says what to install.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDebianTool, ensureKafkaJars, findJava, infraConfig, kafkaLibDir } from '@crm/infra';

/** The repository's infra/ folder (Prometheus rules, Grafana dashboard). */
export const INFRA_DIR = infraConfig().infraDir;

export class ToolError extends Error {
  override name = 'ToolError';
}

/** The promtool binary, from Debian's prometheus package. */
export function ensurePromtool(): Promise<string> {
  return ensureDebianTool('promtool', 'prometheus', "the alert rules' tests");
}

/** Fetches the broker's jars (infra/kafka/pom.xml) from Maven Central when missing (testcontainers runs never start the local broker). */
export function ensureKafkaTool(): Promise<void> {
  return ensureKafkaJars(infraConfig());
}

/** The broker's jars, once `ensureKafkaTool` resolved. */
function kafkaClasspath(): string {
  return join(kafkaLibDir(infraConfig()), '*');
}

/** One line of `kafka-consumer-groups --describe`; offsets are null where the tool prints '-'. */
export interface ToolRow {
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number | null;
  lag: number | null;
}

/** Parses the tool's table by its header, so that column order and widths may change. */
export function parseConsumerGroupsTable(output: string): ToolRow[] {
  const lines = output.split('\n').map((l) => l.trim());
  const headerAt = lines.findIndex((l) => /^GROUP\s+TOPIC\s+PARTITION\s/.test(l));
  if (headerAt < 0) throw new ToolError(`no GROUP TOPIC PARTITION header in the tool's output:\n${output}`);
  const header = (lines[headerAt] as string).split(/\s+/);
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new ToolError(`no ${name} column in the tool's output:\n${output}`);
    return i;
  };
  const [topic, partition, current, end, lag] = ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG'].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const num = (s: string | undefined) => (s === undefined || s === '-' ? null : Number(s));
  const tableEnd = lines.indexOf('', headerAt + 1);
  return lines
    .slice(headerAt + 1, tableEnd < 0 ? undefined : tableEnd)
    .map((l) => l.split(/\s+/))
    .map((f) => ({ topic: f[topic] as string, partition: Number(f[partition]), currentOffset: num(f[current]), logEndOffset: num(f[end]), lag: num(f[lag]) }))
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/**
 * `kafka-consumer-groups --describe --group <group>`, run from the broker's jars. The table is
 * on stdout; notes such as "has no active members" on stderr, kept in `output`.
 */
export function describeGroupWithKafkaTool(brokers: string, group: string): { rows: ToolRow[]; output: string } {
  const args = [
    '-cp',
    kafkaClasspath(),
    'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    '--bootstrap-server',
    brokers,
    '--describe',
    '--group',
    group,
  ];
  const res = spawnSync(findJava(17, "Kafka's consumer-groups tool"), args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (res.error || res.status !== 0)
    throw new ToolError(`kafka-consumer-groups --describe --group ${group} failed (exit ${res.status}): ${res.error?.message ?? ''}\n${output}`);
  return { rows: parseConsumerGroupsTable(res.stdout), output };
}

export interface ToolRun {
  ok: boolean;
  output: string;
}

/** Runs a tool and returns its exit status and combined output (for assertions that print it on failure). */
export function runTool(command: string, args: string[], cwd?: string): ToolRun {
  const res = spawnSync(command, args, { encoding: 'utf8', cwd, maxBuffer: 16 * 1024 * 1024 });
  return {
    ok: res.status === 0 && !res.error,
    output: `$ ${command} ${args.join(' ')}\n${res.stdout ?? ''}${res.stderr ?? ''}${res.error ? String(res.error) : ''}`,
  };
}
