import { describe, expect, it } from 'vitest';
import { DemoConfigError, loadDemoConfig } from './config.ts';

const base = { KAFKA_BROKERS: '127.0.0.1:19092', REDIS_URL: 'redis://127.0.0.1:16379' };
const NOW = Date.UTC(2026, 5, 15, 13, 45);

describe('loadDemoConfig', () => {
  it('has defaults, and forces the stream clock and a namespace per run on the segmenter', () => {
    const c = loadDemoConfig({ ...base, CRM_CLOCK: 'wall', CRM_KEY_PREFIX: 'crm', DEMO_RUN_ID: 'r1' }, NOW, false);
    expect(c).toMatchObject({ rate: 400, daysPerSecond: 2, customers: 40_000, seed: 1, days: 1095, keep: false, ansi: false, tallyIntervalMs: 5000 });
    expect(c.simStart).toBe(Date.UTC(2024, 5, 15));
    expect(c.segmenter).toMatchObject({
      clock: 'stream',
      keyPrefix: 'crm-demo-r1',
      groupId: 'crm-demo-r1',
      http: { port: 0, host: '127.0.0.1', metricsToken: undefined },
      partitions: 3,
      timerIntervalMs: 200,
    });
    expect(c.segmenter.topics.orders).toBe('commerce.orders.v1.demo-r1');
    // Simulated time ends a year ahead of now: the segmenter admits events up to a day past that.
    expect(c.segmenter.eventTimeBounds.maxFutureSkewMs).toBe(Date.UTC(2027, 5, 15) - NOW + 86_400_000);
    expect(loadDemoConfig({ ...base, CRM_MAX_FUTURE_SKEW_MS: '5' }, NOW, false).segmenter.eventTimeBounds.maxFutureSkewMs).toBe(5);
    expect(loadDemoConfig({ ...base, DEMO_SCREEN: 'auto' }, NOW, true)).toMatchObject({ ansi: true, tallyIntervalMs: 500 });
    expect(loadDemoConfig(base, NOW, false).runId).toMatch(/^20260615-[0-9a-f]{6}$/);
  });

  it('names each bad variable', () => {
    expect(() => loadDemoConfig({ ...base, DEMO_RATE: 'fast', DEMO_KEEP: 'yes' }, NOW, false)).toThrow(DemoConfigError);
    expect(() => loadDemoConfig({ ...base, DEMO_RATE: 'fast' }, NOW, false)).toThrow(/DEMO_RATE: .* \(got "fast"\)/);
    expect(() => loadDemoConfig({ ...base, DEMO_CUSTOMERS: '1e3' }, NOW, false)).toThrow(/DEMO_CUSTOMERS: .*decimal digits \(got "1e3"\)/);
    expect(() => loadDemoConfig({ ...base, DEMO_DAYS_PER_SECOND: '0x2' }, NOW, false)).toThrow(/DEMO_DAYS_PER_SECOND/);
    expect(() => loadDemoConfig({ ...base, DEMO_RUN_ID: 'Has Spaces' }, NOW, false)).toThrow(/DEMO_RUN_ID/);
    // The segmenter's own variables are checked by its loader.
    expect(() => loadDemoConfig({ REDIS_URL: base.REDIS_URL }, NOW, false)).toThrow(/KAFKA_BROKERS/);
  });
});
