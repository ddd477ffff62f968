/**
 * A segmenter-filled Redis in quantile scoring mode, for tests of reads (`crm customer show`,
 * `crm customers export`, the profile API's reads): 40 generated customers over three
 * partitions, a custom segment `big_spender`, the stream clock so the stored cuts settle once
 * every event is applied. `setup()` fills it and stops the segmenter; then `stored` holds every
 * customer's decoded state and `cuts` the stored quantile cuts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputEvent } from '@crm/contracts';
import { type CustomerState, DAY_MS, decodeState } from '@crm/domain';
import { type Fixture, createTopics, fixture, topicOf, waitUntilAllApplied } from '@crm/segmenter/testing';
import { type StoredCuts, parseStateRecord, partitionKeys, readRfmCuts } from '@crm/store';
import { generateEvents, waitFor } from '@crm/testkit';

export const QUANTILE_PARTITIONS = 3;

export interface QuantileCustomers {
  f: Fixture;
  /** The segmenter's environment (REDIS_URL, CRM_KEY_PREFIX, CRM_DOMAIN_CONFIG...): the CLI's too. */
  env: Record<string, string>;
  /** The domain configuration file (the custom segment). */
  domainConfigPath: string;
  /** The events produced, in order. */
  events: InputEvent[];
  /** Every stored customer, decoded, by id (after setup). */
  stored: Map<string, CustomerState>;
  /** The stored quantile cuts (after setup). */
  cuts(): StoredCuts;
  setup(): Promise<void>;
  close(): Promise<void>;
}

export function quantileCustomers(): QuantileCustomers {
  const dir = mkdtempSync(join(tmpdir(), 'crm-customers-'));
  const domainConfigPath = join(dir, 'domain.json');
  writeFileSync(domainConfigPath, JSON.stringify({ segments: [{ name: 'big_spender', rule: { field: 'monetaryMinor', op: 'gte', value: 20_000 } }] }));
  const f = fixture({ CRM_SCORING: 'quantile', CRM_RESCORE_INTERVAL_MS: '300', CRM_CLOCK: 'stream', CRM_DOMAIN_CONFIG: domainConfigPath });
  const now = Math.floor(Date.now() / 1000) * 1000;
  const events = generateEvents({ seed: 14, customers: 40, events: 700, start: now - 700 * DAY_MS, end: now - DAY_MS, prefix: 'x' });
  const stored = new Map<string, CustomerState>();
  let cuts: StoredCuts | null = null;
  return {
    f,
    env: f.env,
    domainConfigPath,
    events,
    stored,
    cuts: () => {
      if (cuts === null) throw new Error('no stored cuts: setup() not run, or the segmenter stored none');
      return cuts;
    },
    async setup() {
      await createTopics(f.kafka, f.config, QUANTILE_PARTITIONS);
      const segmenter = await f.start();
      const producer = f.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.sendBatch({ topicMessages: byTopic(events, (e) => topicOf(f.config, e)) });
      await producer.disconnect();
      await waitUntilAllApplied(f.kafka, f.redis, f.config, QUANTILE_PARTITIONS);
      // The stream clock stands still once everything is applied: the cuts settle after one sweep.
      await waitFor(
        'a rescore sweep',
        async () => /crm_rescore_sweeps_total [1-9]/.test(await segmenter.metrics.registry.getSingleMetricAsString('crm_rescore_sweeps_total')),
        { timeoutMs: 60_000 },
      );
      await f.stop();
      cuts = await readRfmCuts(f.redis, f.config.keyPrefix);
      for (let p = 0; p < QUANTILE_PARTITIONS; p++)
        for (const [id, raw] of Object.entries(await f.redis.hgetall(partitionKeys(f.config.keyPrefix, p).state)))
          stored.set(id, decodeState(parseStateRecord(raw).state as string, id));
    },
    async close() {
      await f.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function byTopic(events: readonly InputEvent[], topic: (e: InputEvent) => string) {
  const grouped = Map.groupBy(events, topic);
  return [...grouped].map(([t, es]) => ({ topic: t, messages: es.map((e) => ({ key: e.subject, value: JSON.stringify(e) })) }));
}
