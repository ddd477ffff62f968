/**
 * Start-up against the real broker: missing topics are created co-partitioned; input topics
 * with different partition counts stop the service with a clear message; the HTTP endpoints
 * tell health, readiness and metrics.
 */
import { createTopic, waitFor } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config.ts';
import { fixture } from './testing/harness.ts';

describe('segmenter start-up', () => {
  it('refuses to run when the input topics are not co-partitioned, naming each count', async () => {
    const f = fixture({ CRM_PARTITIONS: '4' });
    const admin = f.kafka.admin();
    await admin.connect();
    await createTopic(admin, f.config.topics.interactions, 2);
    await admin.disconnect();
    const err = await f.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(
      new RegExp(`not co-partitioned \\(${f.config.topics.orders}: 4, ${f.config.topics.interactions}: 2, ${f.config.topics.profiles}: 4\\)`),
    );
    await f.redis.quit();
  });

  describe('once running', () => {
    const f = fixture({ CRM_PARTITIONS: '2' });
    afterAll(() => f.close());

    it('creates missing topics, then answers /healthz, /readyz and /metrics', async () => {
      const segmenter = await f.start();
      const admin = f.kafka.admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: Object.values(f.config.topics) });
      await admin.disconnect();
      expect(meta.topics.map((t) => t.partitions.length)).toEqual([2, 2, 2, 2, 2]);

      const base = `http://127.0.0.1:${segmenter.httpPort()}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await waitFor('readiness', async () => {
        const res = await fetch(`${base}/readyz`);
        return res.status === 200 ? ((await res.json()) as { partitions: number[] }) : undefined;
      });
      expect(ready.partitions).toEqual([0, 1]);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      for (const name of ['crm_events_consumed_total', 'crm_outbox_backlog', 'crm_assigned_partitions 2', 'process_cpu_seconds_total']) {
        expect(metrics).toContain(name);
      }
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    });
  });
});
