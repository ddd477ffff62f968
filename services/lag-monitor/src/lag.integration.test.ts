/**
 * Against the real broker: a group with a known backlog (records stamped with known times on a
 * three-partition topic, part of them consumed and committed). The monitor's figures must be
 * those of Kafka's own consumer-groups tool, its lag in seconds the age of the oldest
 * unconsumed record, and it must keep reporting once every consumer of the group is down.
 */
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, silentLogger, testEndpoints, testKafka, uniqueName } from '@crm/testkit';
import { collectLag } from './collect.ts';
import { loadConfig } from './config.ts';
import { LagMonitor } from './service.ts';
import { describeGroupWithKafkaTool, ensureKafkaTool } from './testing/tools.ts';

const PARTITIONS = 3;
const PER_PARTITION = 20;
/** Records consumed and committed per partition: a backlog on 0 and 1, none on 2. */
const CONSUMED = [5, 12, 20];
/** The records' timestamps: an hour ago, one minute apart, so every age is known and distinct. */
const T0 = Date.now() - 3_600_000;
const stamp = (partition: number, offset: number) => T0 + (partition * PER_PARTITION + offset) * 60_000;

let kafka: Kafka;
let admin: Admin;
let consumer: Consumer;
const topic = uniqueName('lag.orders');
// Not crm-: a monitor run on the developer's broker should not list test groups. The id doubles as a prefix that selects it alone.
const group = uniqueName('lagtest');
/** Groups this file leaves on the broker, deleted at the end. */
const created = [group];

/**
 * A consumer of `groupId` that consumes exactly consumed[p] records of each partition p,
 * commits them, and stays in the group.
 */
async function consumePartly(groupId: string, consumed: readonly number[]): Promise<Consumer> {
  const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const seen = new Array<number>(PARTITIONS).fill(0);
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  await c.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch }) => {
      const want = consumed[batch.partition] as number;
      for (const m of batch.messages) if (Number(m.offset) < want) seen[batch.partition] = Number(m.offset) + 1;
      if (seen.every((n, p) => n >= (consumed[p] as number))) resolveDone();
    },
  });
  await done;
  await c.commitOffsets(consumed.map((offset, partition) => ({ topic, partition, offset: String(offset) })));
  return c;
}

beforeAll(async () => {
  await ensureKafkaTool();
  kafka = testKafka();
  admin = kafka.admin();
  await admin.connect();
  await createTopic(admin, topic, PARTITIONS);
  // Idempotent: under load a plain producer may retry a send the broker already wrote, and a
  // duplicated batch would move the log-end offsets this file asserts on.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: PARTITIONS * PER_PARTITION }, (_, i) => {
      const partition = Math.floor(i / PER_PARTITION);
      const offset = i % PER_PARTITION;
      return { partition, key: `customer-${i}`, value: `{"n":${i}}`, timestamp: String(stamp(partition, offset)) };
    }),
  });
  await producer.disconnect();
  consumer = await consumePartly(group, CONSUMED);
});

afterAll(async () => {
  await consumer?.disconnect();
  await admin?.deleteGroups(created).catch(() => undefined);
  await admin?.disconnect();
});

/** Per partition, what Kafka's tool reports for the group. */
function kafkaToolFigures() {
  const { rows, output } = describeGroupWithKafkaTool(testEndpoints().kafkaBrokers, group);
  return {
    output,
    figures: rows.map((r) => ({ topic: r.topic, partition: r.partition, committedOffset: r.currentOffset, endOffset: r.logEndOffset, lagMessages: r.lag })),
  };
}

describe('lag of a group with a known backlog', () => {
  it('equals the figures of Kafka consumer-groups tool on every partition, with the age of the oldest unconsumed record', async () => {
    const snapshot = await collectLag(kafka, [group]);
    const [g] = snapshot.groups;
    expect(snapshot.errors).toEqual([]);
    expect(g).toMatchObject({ group, members: 1, state: 'Stable' });

    const tool = kafkaToolFigures();
    const ours = g?.rows.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      committedOffset: r.committedOffset,
      endOffset: r.endOffset,
      lagMessages: r.lagMessages,
    }));
    expect(ours, tool.output).toEqual(tool.figures);
    expect(ours?.map((r) => r.lagMessages)).toEqual([15, 8, 0]);

    for (const r of g?.rows ?? []) {
      const lagging = r.lagMessages > 0;
      // The oldest unconsumed record is the one at the committed offset: its timestamp is known.
      expect(r.oldestUnconsumedTimestamp).toBe(lagging ? stamp(r.partition, r.committedOffset) : null);
      expect(r.lagSeconds).toBe(lagging ? (snapshot.at - stamp(r.partition, r.committedOffset)) / 1000 : 0);
    }
  });

  it('keeps reporting the group once all its consumers are down, as metrics and as JSON', async () => {
    await consumer.disconnect();
    const monitor = new LagMonitor(
      loadConfig({ KAFKA_BROKERS: testEndpoints().kafkaBrokers, LAG_HTTP_PORT: '0', LAG_GROUP_PREFIX: group, LAG_INTERVAL_MS: '100', LOG_LEVEL: 'silent' }),
      silentLogger,
    );
    const first = monitor.nextCollection();
    await monitor.start();
    try {
      const snapshot = await first;
      const base = `http://127.0.0.1:${monitor.httpPort()}`;
      expect(snapshot.groups.map((g) => g.group)).toEqual([group]);
      expect(snapshot.groups[0]).toMatchObject({ members: 0, state: 'Empty' });

      const tool = kafkaToolFigures();
      expect(tool.output).toMatch(/has no active members/);
      const lag = (await (await fetch(`${base}/lag`)).json()) as Awaited<typeof first>;
      expect(
        lag.groups[0]?.rows.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          committedOffset: r.committedOffset,
          endOffset: r.endOffset,
          lagMessages: r.lagMessages,
        })),
        tool.output,
      ).toEqual(tool.figures);

      const metrics = await (await fetch(`${base}/metrics`)).text();
      const sample = (name: string, labels: string) => {
        const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics);
        return m ? Number(m[1]) : undefined;
      };
      expect(sample('crm_consumer_group_members', `group="${group}"`)).toBe(0);
      expect(sample('crm_consumer_group_up', `group="${group}"`)).toBe(0);
      for (const f of tool.figures) {
        const labels = `group="${group}",topic="${topic}",partition="${f.partition}"`;
        expect(sample('crm_consumer_lag_messages', labels)).toBe(f.lagMessages);
        expect(sample('crm_consumer_committed_offset', labels)).toBe(f.committedOffset);
        expect(sample('crm_topic_end_offset', `topic="${topic}",partition="${f.partition}"`)).toBe(f.endOffset);
        // The exported age is the one of the collection it came from (the same `at`).
        const row = lag.groups[0]?.rows.find((r) => r.partition === f.partition);
        expect(sample('crm_consumer_lag_seconds', labels)).toBeCloseTo(row?.lagSeconds ?? Number.NaN, 3);
      }
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await monitor.stop();
    }
  });

  it('reads the oldest unconsumed record of each group when groups stand at different offsets of one partition', async () => {
    // A second group on the same topic, further ahead on partition 0 and behind on 1 (and done with 2).
    const other = uniqueName('lagtest-other');
    created.push(other);
    await (await consumePartly(other, [9, 3, 20])).disconnect();
    const snapshot = await collectLag(kafka, [group, other]);
    expect(snapshot.errors).toEqual([]);
    const oldest = snapshot.groups.map((g) => ({ group: g.group, oldest: g.rows.map((r) => [r.partition, r.committedOffset, r.oldestUnconsumedTimestamp]) }));
    expect(oldest).toEqual(
      [
        {
          group,
          oldest: [
            [0, 5, stamp(0, 5)],
            [1, 12, stamp(1, 12)],
            [2, 20, null],
          ],
        },
        {
          group: other,
          oldest: [
            [0, 9, stamp(0, 9)],
            [1, 3, stamp(1, 3)],
            [2, 20, null],
          ],
        },
      ].sort((a, b) => a.group.localeCompare(b.group)),
    );
  });

  it('reports a listed group that has no members and no offsets as down, with no rows', async () => {
    const ghost = uniqueName('lagtest-ghost');
    const snapshot = await collectLag(kafka, [ghost]);
    expect(snapshot.groups).toEqual([{ group: ghost, state: 'Dead', members: 0, rows: [] }]);
  });
});
