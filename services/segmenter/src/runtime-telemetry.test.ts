import { constants } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { gcKindName, startRuntimeTelemetry } from './runtime-telemetry.ts';

/** A histogram's sample count (over all its label sets or one), and its cumulative count at a bound `le`. */
async function histogram(registry: Registry, name: string) {
  const metric = await registry.getSingleMetric(name)?.get();
  const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
  const has = (labels: Record<string, string | number>) => (v: (typeof values)[number]) => Object.entries(labels).every(([k, x]) => v.labels[k] === x);
  const sum = (suffix: string, labels: Record<string, string | number>) =>
    values.filter((v) => v.metricName === `${name}${suffix}` && has(labels)(v)).reduce((a, v) => a + v.value, 0);
  return { count: sum('_count', {}), countOf: (labels: Record<string, string>) => sum('_count', labels), bucket: (le: number) => sum('_bucket', { le }) };
}

const until = async (cond: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('runtime telemetry', () => {
  const stops: Array<() => void> = [];
  afterEach(() => {
    for (const s of stops.splice(0)) s();
  });

  it('records a blocked event loop as one long delay sample', async () => {
    const registry = new Registry();
    const t = startRuntimeTelemetry(registry);
    stops.push(t.stop);
    await until(async () => (await histogram(registry, 'crm_event_loop_delay_seconds')).count >= 3);
    const before = await histogram(registry, 'crm_event_loop_delay_seconds');
    // Samples over 0.1 s so far (a loaded machine may stall by itself).
    const longBefore = before.count - before.bucket(0.1);
    const end = performance.now() + 300;
    while (performance.now() < end) {
      // block the loop
    }
    await until(async () => (await histogram(registry, 'crm_event_loop_delay_seconds')).count > before.count);
    const after = await histogram(registry, 'crm_event_loop_delay_seconds');
    expect(after.count - after.bucket(0.1)).toBeGreaterThan(longBefore);
  });

  it('records GC pauses by kind when the process allocates', async () => {
    const registry = new Registry();
    const t = startRuntimeTelemetry(registry);
    stops.push(t.stop);
    let keep: unknown[] = [];
    // Short-lived garbage: young-generation collections (minor) follow within a few megabytes.
    await until(async () => {
      for (let i = 0; i < 100_000; i++) keep.push({ i, s: `x${i}` });
      keep = [];
      return (await histogram(registry, 'crm_gc_pause_seconds')).count > 0;
    });
    const gc = await histogram(registry, 'crm_gc_pause_seconds');
    expect(gc.countOf({ kind: 'minor' })).toBeGreaterThan(0);
  });

  it('names the GC kinds', () => {
    expect(gcKindName(undefined)).toBe('other');
    expect(gcKindName(-1)).toBe('other');
    expect(
      ['minor', 'major', 'incremental', 'weakcb'].every((k) =>
        [
          constants.NODE_PERFORMANCE_GC_MINOR,
          constants.NODE_PERFORMANCE_GC_MAJOR,
          constants.NODE_PERFORMANCE_GC_INCREMENTAL,
          constants.NODE_PERFORMANCE_GC_WEAKCB,
        ]
          .map(gcKindName)
          .includes(k),
      ),
    ).toBe(true);
  });

  it('is part of the segmenter metrics, under the names the README lists', async () => {
    const m = createMetrics();
    stops.push(m.runtime.stop);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE crm_event_loop_delay_seconds histogram');
    expect(text).toContain('# TYPE crm_gc_pause_seconds histogram');
  });
});
