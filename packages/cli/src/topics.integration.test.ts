/** `crm topics create|describe` on the real broker, including a topic set that is not co-partitioned. */
import { isolatedEnv } from '@crm/segmenter/testing';
import { createTopic, testKafka } from '@crm/testkit';
import { describe, expect, it } from 'vitest';
import { captureIo } from './testing/io.ts';
import { run } from './run.ts';

describe('crm topics', () => {
  it('creates the missing topics, leaves existing ones alone and describes them', async () => {
    const { env, config } = isolatedEnv();
    const create = captureIo(env);
    expect(await run(['topics', 'create', '--partitions', '4'], create)).toBe(0);
    expect(create.out()).toContain(`${config.topics.orders}  `);
    expect(create.out()).toMatch(/co-partitioned: all 3 input topics have 4 partitions/);
    expect(create.out().match(/ created/g)).toHaveLength(5);

    const again = captureIo(env);
    expect(await run(['topics', 'create', '--partitions', '2'], again)).toBe(0);
    expect(again.out().match(/exists \(not 2\)/g)).toHaveLength(5);

    const describeIo = captureIo(env);
    expect(await run(['topics', 'describe', '--json'], describeIo)).toBe(0);
    expect(JSON.parse(describeIo.out())).toEqual({
      topics: Object.values(config.topics).map((topic) => ({ topic, partitions: 4 })),
      coPartitioned: true,
      verdict: 'co-partitioned: all 3 input topics have 4 partitions',
    });
  });

  it('says clearly when the input topics are not co-partitioned or missing', async () => {
    const { env, config } = isolatedEnv();
    const missing = captureIo(env);
    expect(await run(['topics', 'describe'], missing)).toBe(1);
    expect(missing.out()).toMatch(/NOT READY: input topic\(s\) missing: commerce\.orders\.v1\..*customer\.profiles\.v1\./);

    const admin = testKafka().admin();
    await admin.connect();
    await createTopic(admin, config.topics.interactions, 2);
    await admin.disconnect();
    expect(await run(['topics', 'create', '--partitions', '3'], captureIo(env))).toBe(1);
    const io = captureIo(env);
    expect(await run(['topics', 'describe'], io)).toBe(1);
    expect(io.out()).toContain(
      `NOT co-partitioned: ${config.topics.orders} has 3, ${config.topics.interactions} has 2, ${config.topics.profiles} has 3; the segmenter refuses to start`,
    );
  });
});
