/**
 * The relay encodes changes without a zod pass (encodeOutput's `checked`): this proves that
 * every change the domain emits, by event or by time, becomes a CloudEvent that satisfies the
 * segment-changes contract.
 */
import { EVENT_SCHEMAS, type InputEvent, TOPICS } from '@crm/contracts';
import { type CustomerState, DAY_MS, type SegmentChange, apply, defaultDomainConfig, evaluate, nextDueAt } from '@crm/domain';
import { generate } from '@crm/sample-data';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toChangeEvent } from './partition-worker.ts';

/** Every change of every customer of a generated history: its events in time order, then its timers for two years. */
function changesOf(events: readonly InputEvent[]): SegmentChange[] {
  const domain = defaultDomainConfig;
  const states = new Map<string, CustomerState | null>();
  const changes: SegmentChange[] = [];
  const sorted = [...events].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  for (const [offset, e] of sorted.entries()) {
    const res = apply(states.get(e.subject) ?? null, e, domain, { topic: 'commerce.orders.v1', partition: 0, offset: String(offset) });
    states.set(e.subject, res.state);
    changes.push(...res.changes);
  }
  for (const state of states.values()) {
    let s = state;
    for (let due = s === null ? null : nextDueAt(s, domain); s !== null && due !== null && due < s.asOf + 730 * DAY_MS; due = nextDueAt(s, domain)) {
      const res = evaluate(s, due, domain);
      changes.push(...res.changes);
      s = res.state;
    }
  }
  return changes;
}

describe('toChangeEvent', () => {
  it('turns every change the domain emits into a valid segment-changes event', () => {
    const schema = EVENT_SCHEMAS[TOPICS.segmentChanges];
    const causes = new Set<string>();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (seed) => {
        const changes = changesOf(generate({ seed, customers: 40, days: 365 }));
        expect(changes.length).toBeGreaterThan(0);
        for (const c of changes) {
          const parsed = schema.safeParse(toChangeEvent(c));
          if (!parsed.success) throw new Error(`${JSON.stringify(toChangeEvent(c))}: ${parsed.error.message}`);
          causes.add(c.cause.kind);
        }
      }),
      { numRuns: 25 },
    );
    expect([...causes].sort()).toEqual(['event', 'timer']);
  });
});
