/**
 * The Grafana dashboard, the alert rules and their tests name only metrics the code exports:
 * the segmenter's (services/segmenter/src/metrics.ts) and the lag monitor's (metrics.ts), plus
 * Prometheus' own `up`. A renamed metric breaks this test, not a dashboard nobody looks at.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { INFRA_DIR } from './testing/tools.ts';

const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

/** Series names the code exports: the lag monitor's from its registry, the segmenter's from its source. */
async function exportedSeries(): Promise<Set<string>> {
  const names = new Set<string>(['up']);
  const add = (name: string, type: string) => {
    names.add(name);
    if (type === 'histogram' || type === 'Histogram') for (const s of HISTOGRAM_SERIES) names.add(name + s);
  };
  for (const m of await createMetrics().registry.getMetricsAsJSON()) add(m.name, String(m.type));
  const segmenter = readFileSync(fileURLToPath(new URL('../../segmenter/src/metrics.ts', import.meta.url)), 'utf8');
  const declared = [...segmenter.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'(\w+)'/g)];
  expect(declared.length, 'metrics declared in services/segmenter/src/metrics.ts').toBeGreaterThan(10);
  for (const [, type, name] of declared) add(name as string, type as string);
  return names;
}

/** Metric names in a PromQL expression: the project's crm_* series and `up`. */
const referenced = (expr: string): string[] => [...expr.matchAll(/\b(crm_\w+|up)\b(?=\s*[{[)\s,]|$)/g)].map((m) => m[1] as string);

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(join(INFRA_DIR, 'grafana', 'dashboard.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: { name: string; query?: unknown }[] };
};

function exprs(panels: Panel[]): { where: string; expr: string }[] {
  return panels.flatMap((p) => [...(p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr ?? '' })), ...exprs(p.panels ?? [])]);
}

describe('dashboard and alert rules name exported metrics', () => {
  let exported: Set<string>;
  beforeAll(async () => {
    exported = await exportedSeries();
  });

  it('every dashboard query references at least one metric, and only metrics the code exports', () => {
    const queries = [
      ...exprs(dashboard.panels),
      ...dashboard.templating.list
        .filter((v) => v.query !== undefined && typeof v.query !== 'string')
        .map((v) => ({ where: `variable $${v.name}`, expr: (v.query as { query: string }).query })),
    ];
    expect(queries.length).toBeGreaterThan(10);
    for (const { where, expr } of queries) {
      const names = referenced(expr);
      expect(names.length, `${where}: ${expr} names no known metric`).toBeGreaterThan(0);
      for (const n of names) expect(exported.has(n), `${where}: ${n} is not exported by the code`).toBe(true);
    }
  });

  it('the dashboard shows throughput, lag in messages and seconds, latency, dead letters, segment changes and outbox', () => {
    const all = exprs(dashboard.panels)
      .map((q) => q.expr)
      .join('\n');
    for (const m of [
      'crm_events_consumed_total',
      'crm_consumer_lag_messages',
      'crm_consumer_lag_seconds',
      'crm_batch_duration_seconds_bucket',
      'crm_redis_commit_duration_seconds_bucket',
      'crm_dead_letters_total',
      'crm_segment_changes_total',
      'crm_outbox_backlog',
    ]) {
      expect(all).toContain(m);
    }
  });

  it('alert rules and their unit tests name only metrics the code exports', () => {
    for (const file of ['alerts.yml', 'tests.yml']) {
      const text = readFileSync(join(INFRA_DIR, 'prometheus', file), 'utf8');
      const names = [...text.matchAll(/\bcrm_[a-z0-9_]+\b/g)].map((m) => m[0]);
      expect(names.length).toBeGreaterThan(5);
      for (const n of names) expect(exported.has(n), `${file}: ${n} is not exported by the code`).toBe(true);
    }
  });
});
