/**
 * Quantile scoring: the R/F/M cuts become the population's quintiles, merged from per-partition
 * summaries; customers whose scores move get their changes through a rescore sweep.
 */
import type { InputEvent } from '@crm/contracts';
import { DAY_MS, decodeState, describe as describeState, evaluate, mergeRfmSummaries, quantileCuts, rescore, summarizeRfm } from '@crm/domain';
import { globalKeys, parseStateRecord, partitionKeys } from '@crm/store';
import { waitFor } from '@crm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, readChanges, waitUntilAllApplied } from './testing/harness.ts';

describe('quantile scoring mode', () => {
  const f = fixture({ CRM_SCORING: 'quantile', CRM_RESCORE_INTERVAL_MS: '300', CRM_PARTITIONS: '2' });
  const { config, redis } = f;
  afterAll(() => f.close());

  it('recomputes cuts from merged partition summaries and re-scores the customers they move', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    // Forty customers; customer i bought i+1 times for 10.00 each, last i days ago: the fixed
    // default cuts would call most of them alike, quintiles spread them over 1-5.
    const orders: InputEvent[] = [];
    for (let i = 0; i < 40; i++) {
      for (let n = 0; n <= i; n++) {
        orders.push({
          specversion: '1.0',
          id: `q-${i}-${n}`,
          source: 'urn:test',
          type: 'commerce.order.completed',
          time: new Date(now - (i + n) * DAY_MS).toISOString(),
          subject: `q${i}`,
          data: { orderId: `q-${i}-${n}`, amountMinor: 1_000, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null },
        });
      }
    }
    const segmenter = await f.start();
    const fixedCuts = segmenter.cuts();
    const producer = f.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: config.topics.orders, messages: orders.map((e) => ({ key: e.subject, value: JSON.stringify(e) })) });
    await producer.disconnect();

    const rescored = await waitFor(
      'rescore changes',
      async () => {
        const r = (await readChanges(f)).filter((c) => c.data.cause.kind === 'rescore');
        return r.length > 0 ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    expect(
      rescored.every(
        (c) => c.data.dimension === 'rfm_segment' || c.data.dimension === 'custom' || c.data.dimension === 'stage' || c.data.dimension === 'quadrant',
      ),
    ).toBe(true);

    // Once every order is applied, the cuts in force are the quintiles of the merged
    // per-partition summaries (read together only between two rescore cycles).
    await waitUntilAllApplied(f.kafka, redis, config, 2);
    const stored = await waitFor("cuts equal to the merged summaries' quintiles", async () => {
      const cuts = JSON.parse((await redis.get(globalKeys(config.keyPrefix).rfmCuts)) ?? 'null') as { cuts: unknown };
      const summaries = await Promise.all([0, 1].map(async (p) => JSON.parse((await redis.get(partitionKeys(config.keyPrefix, p).rfmSummary)) ?? 'null')));
      return JSON.stringify(cuts.cuts) === JSON.stringify(quantileCuts(summaries.reduce(mergeRfmSummaries))) ? cuts : undefined;
    });
    expect(stored.cuts).not.toEqual(fixedCuts);
    await waitFor('the sweep to finish', async () =>
      /crm_rescore_sweeps_total [1-9]/.test(await segmenter.metrics.registry.getSingleMetricAsString('crm_rescore_sweeps_total')),
    );
    expect(segmenter.cuts()).toEqual(stored.cuts);

    // Merging partition summaries equals summarizing everyone at once.
    const states = (await Promise.all([0, 1].map(async (p) => Object.entries(await redis.hgetall(partitionKeys(config.keyPrefix, p).state)))))
      .flat()
      .map(([id, raw]) => decodeState(parseStateRecord(raw).state as string, id));
    expect(states).toHaveLength(40);
    const domain = { ...config.domain, rfm: { ...config.domain.rfm, cuts: segmenter.cuts() } };
    // (The service summarizes each customer as of now, as this does: recency counts from now.)
    const asOfNow = states.map((s) => describeState(evaluate(s, Math.max(s.asOf, Date.now()), domain).state, domain));
    expect(quantileCuts(summarizeRfm(asOfNow))).toEqual(stored.cuts);

    // Every customer is settled under the new cuts: re-scoring again would change nothing.
    const fresh = (await Promise.all([0, 1].map(async (p) => Object.entries(await redis.hgetall(partitionKeys(config.keyPrefix, p).state)))))
      .flat()
      .map(([id, raw]) => decodeState(parseStateRecord(raw).state as string, id));
    for (const s of fresh) expect(rescore(s, domain).changes, s.customerId).toEqual([]);
    const scores = new Set(fresh.map((s) => describeState(s, domain).f));
    expect(scores.size).toBeGreaterThanOrEqual(4);
  });
});
