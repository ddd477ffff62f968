/**
 * Event-loop and GC telemetry, to tell a latency stall's cause apart: the loop blocked (CPU
 * work in one callback), a GC pause, or neither (the event waited on I/O or a poll interval).
 *
 * - `crm_event_loop_delay_seconds`: a histogram of how late a repeating 10 ms timer fires. A
 *   loop blocked for 200 ms yields one sample of ~0.19 s, so the `le` buckets count stalls by
 *   length. perf_hooks.monitorEventLoopDelay measures the same thing natively, but it only
 *   yields percentiles, not counts per bound, so it cannot feed a Prometheus histogram; the
 *   prom-client default metrics already export it as `nodejs_eventloop_lag_{p50,p90,p99,max}_seconds`
 *   (reset at every scrape).
 * - `crm_gc_pause_seconds{kind}`: every GC pause from a PerformanceObserver on 'gc', kind one of
 *   minor (scavenge), major (mark-compact), incremental, weakcb. prom-client's default
 *   `nodejs_gc_duration_seconds` keeps only the first entry of each observer callback, with
 *   buckets from 1 ms: minor pauses are sub-millisecond and come in bursts.
 */
import { type PerformanceEntry, PerformanceObserver, constants } from 'node:perf_hooks';
import { Histogram, type Registry } from 'prom-client';

/** How often the loop-delay probe fires: its lateness is the delay. */
export const LOOP_PROBE_MS = 10;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export function gcKindName(kind: number | undefined): string {
  return (kind === undefined ? undefined : GC_KINDS[kind]) ?? 'other';
}

export interface RuntimeTelemetry {
  loopDelay: Histogram;
  gcPause: Histogram<'kind'>;
  /** Stops the probe and the observer (the probe's timer never holds the process open). */
  stop(): void;
}

export function startRuntimeTelemetry(registry: Registry): RuntimeTelemetry {
  const loopDelay = new Histogram({
    name: 'crm_event_loop_delay_seconds',
    help: `How late a ${LOOP_PROBE_MS} ms timer fires: a blocked event loop (one sample per stall, about its length)`,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const gcPause = new Histogram({
    name: 'crm_gc_pause_seconds',
    help: 'Garbage-collection pauses, by kind (minor, major, incremental, weakcb)',
    labelNames: ['kind'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });

  let timer: NodeJS.Timeout | undefined;
  let due = 0;
  const probe = () => {
    const now = performance.now();
    loopDelay.observe(Math.max(0, now - due) / 1000);
    due = now + LOOP_PROBE_MS;
    timer = setTimeout(probe, LOOP_PROBE_MS).unref();
  };
  due = performance.now() + LOOP_PROBE_MS;
  timer = setTimeout(probe, LOOP_PROBE_MS).unref();

  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
      gcPause.observe({ kind: gcKindName(detail?.kind) }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  return {
    loopDelay,
    gcPause,
    stop() {
      clearTimeout(timer);
      observer.disconnect();
    },
  };
}
