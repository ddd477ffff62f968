/** Customer stories: each `it` follows one customer through the rules that matter to them. */
import { describe, expect, it } from 'vitest';
import { parseDomainConfig } from './config.ts';
import { apply, type SegmentChange, describe as describeState, evaluate, nextDueAt } from './engine.ts';
import type { CustomerState } from './state.ts';
import { cancelled, completed, consent, day, erasure, interaction, refunded, registered } from './testing/events.ts';
import { DAY_MS } from './time.ts';
import type { InputEvent } from '@crm/contracts';

const config = parseDomainConfig({
  segments: [
    {
      name: 'vip',
      rule: {
        all: [
          { field: 'tier', in: ['gold', 'platinum'] },
          { field: 'marketingConsent', op: 'eq', value: true },
        ],
      },
    },
  ],
});

function run(events: readonly InputEvent[], start: CustomerState | null = null): { state: CustomerState; changes: SegmentChange[] } {
  let state = start;
  const changes: SegmentChange[] = [];
  for (const e of events) {
    const r = apply(state, e, config);
    state = r.state;
    changes.push(...r.changes);
  }
  if (state === null) throw new Error('no events');
  return { state, changes };
}
const moves = (changes: readonly SegmentChange[], dimension: string): string[] =>
  changes.filter((c) => c.dimension === dimension).map((c) => `${c.from ?? '-'}>${c.to ?? '-'}`);

/** Twelve monthly orders of 150.00 during 2024. */
const steadyYear = (): InputEvent[] => Array.from({ length: 12 }, (_, i) => completed({ orderId: `o-${i}`, at: day(i * 30 + 5), amountMinor: 15_000 }));

describe('customer stories', () => {
  it('a registration makes a prospect', () => {
    const { state, changes } = run([registered(day(0))]);
    expect(state.memberships.stage).toBe('prospect');
    expect(changes).toEqual([
      expect.objectContaining({ dimension: 'stage', from: null, to: 'prospect', reason: 'no_purchase', time: '2024-01-01T00:00:00.000Z' }),
    ]);
    expect(changes[0]?.cause).toEqual({ kind: 'event', topic: null, partition: null, offset: null, eventId: expect.any(String), dueAt: null });
  });

  it('a first purchase makes them new, with an RFM segment and a tier', () => {
    const r0 = run([registered(day(0))]);
    const r1 = apply(r0.state, completed({ orderId: 'o-1', at: day(3), amountMinor: 2_500 }), config, {
      topic: 'commerce.orders.v1',
      partition: 4,
      offset: '17',
    });
    expect(r1.state.memberships).toMatchObject({ stage: 'new', rfmSegment: 'new_customers', tier: 'none' });
    expect(moves(r1.changes, 'stage')).toEqual(['prospect>new']);
    const stage = r1.changes.find((c) => c.dimension === 'stage');
    expect(stage?.reason).toBe('lifetime_orders=1');
    expect(stage?.cause).toMatchObject({ kind: 'event', topic: 'commerce.orders.v1', partition: 4, offset: '17' });
    expect(stage?.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('steady buying makes a Champion, Gold and loyal', () => {
    const { state, changes } = run([registered(day(0)), ...steadyYear()]);
    expect(state.memberships).toMatchObject({ rfmSegment: 'champions', tier: 'gold', stage: 'loyal' });
    expect(moves(changes, 'stage')).toEqual(['->prospect', 'prospect>new', 'new>repeat', 'repeat>loyal']);
    expect(moves(changes, 'tier')).toEqual(['->bronze', 'bronze>silver', 'silver>gold']);
    const view = describeState(state, config);
    expect(view).toMatchObject({ frequency: 12, monetaryMinor: 180_000, r: 5, f: 5, m: 5, points: 1_800, lifetimeOrders: 12 });
  });

  it('95 days of silence make At Risk, by the passage of time alone, at the exact instant', () => {
    const { state } = run([registered(day(0)), ...steadyYear()]);
    const last = day(11 * 30 + 5);
    // Walk the due times: R drops at 30, 60 and 90 days; the year-old orders leave the window
    // at 35, 65 and 95 days (frequency and monetary drop); stage moves at 90.
    let s = state;
    const seen: number[] = [];
    for (let due = nextDueAt(s, config); due !== null && due <= last + 95 * DAY_MS; due = nextDueAt(s, config)) {
      expect(evaluate(s, due - 1, config).changes).toEqual([]);
      seen.push((due - last) / DAY_MS);
      s = evaluate(s, due, config).state;
    }
    expect(seen).toEqual([30, 35, 60, 65, 90, 95]);
    const { state: after, changes } = evaluate(state, last + 95 * DAY_MS, config);
    expect(after.memberships.stage).toBe('at_risk');
    expect(after.memberships.rfmSegment).toBe('at_risk');
    const stage = changes.find((c) => c.dimension === 'stage');
    const at90 = new Date(last + 90 * DAY_MS).toISOString();
    expect(stage).toMatchObject({ from: 'loyal', to: 'at_risk', reason: 'recency_days>=90', time: at90 });
    expect(stage?.cause).toEqual({ kind: 'timer', topic: null, partition: null, offset: null, eventId: null, dueAt: at90 });
    expect(after.asOf).toBe(last + 95 * DAY_MS);
  });

  it('a complaint with CSAT 1 turns a loyalist into a hostage', () => {
    const history = [registered(day(0)), ...steadyYear(), interaction({ at: day(200), csat: 4 }), interaction({ at: day(250), csat: 4 })];
    const before = run(history);
    expect(before.state.memberships).toMatchObject({ quadrant: 'loyalist', satisfaction: 'high', expectationGap: 'met' });
    const r = apply(before.state, interaction({ at: day(300), reason: 'complaint', resolution: 'pending', csat: 1, caseId: 'case-9' }), config);
    expect(r.state.memberships).toMatchObject({ quadrant: 'hostage', satisfaction: 'low', expectationGap: 'unmet' });
    expect(moves(r.changes, 'quadrant')).toEqual(['loyalist>hostage']);
    expect(describeState(r.state, config)).toMatchObject({ csatAvg: 3, openComplaints: 1 });
    // Resolving the case closes the complaint: satisfaction comes back one step.
    const resolved = apply(r.state, interaction({ at: day(305), caseId: 'case-9', resolution: 'resolved' }), config);
    expect(describeState(resolved.state, config).openComplaints).toBe(0);
    expect(resolved.state.memberships.quadrant).toBe('loyalist');
  });

  it('a purchase after 400 days of silence gives reactivated, until the next purchase', () => {
    const { state } = run([registered(day(0)), completed({ orderId: 'a', at: day(1) }), completed({ orderId: 'b', at: day(20) })]);
    const back = apply(state, completed({ orderId: 'c', at: day(420) }), config);
    expect(moves(back.changes, 'stage')).toEqual(['repeat>at_risk', 'at_risk>lapsed', 'lapsed>churned', 'churned>reactivated']);
    expect(back.changes.at(-1)?.cause.kind).toBe('event');
    expect(back.changes.find((c) => c.to === 'reactivated')?.reason).toBe('gap_days>=365');
    const again = apply(back.state, completed({ orderId: 'd', at: day(440) }), config);
    expect(again.state.memberships.stage).toBe('repeat');
  });

  it('keeps the previous purchase once every order has folded into the lifetime summary', () => {
    const { state } = run([completed({ orderId: 'a', at: day(1) }), completed({ orderId: 'c', at: day(50) }), completed({ orderId: 'b', at: day(20) })]);
    // Beyond the retention horizon (window 365 + lateness 30 days) of every order: no record is held.
    const later = evaluate(state, day(500), config).state;
    expect(later.orders).toEqual([]);
    expect(later.past).toMatchObject({ count: 3, first: day(1), last: day(50), previous: day(20) });
    expect(describeState(later, config)).toMatchObject({ lastPurchaseAt: day(50), previousPurchaseAt: day(20), lifetimeOrders: 3 });
    // A purchase after the summary: the summary's latest becomes the previous one.
    const back = apply(later, completed({ orderId: 'd', at: day(510) }), config);
    expect(describeState(back.state, config)).toMatchObject({ lastPurchaseAt: day(510), previousPurchaseAt: day(50) });
    expect(back.state.memberships.stage).toBe('reactivated');
  });

  it('a refund can move a customer down a tier', () => {
    const { state } = run([
      completed({ orderId: 'big', at: day(10), amountMinor: 120_000 }),
      completed({ orderId: 'small', at: day(20), amountMinor: 40_000 }),
    ]);
    expect(state.memberships.tier).toBe('gold');
    const r = apply(state, refunded({ orderId: 'big', at: day(25), amountMinor: 20_000 }), config);
    expect(moves(r.changes, 'tier')).toEqual(['gold>silver']);
    expect(describeState(r.state, config)).toMatchObject({ monetaryMinor: 140_000, points: 1_400 });
    // Refunds are cumulative: an older, smaller refund arriving late changes nothing.
    expect(apply(r.state, refunded({ orderId: 'big', at: day(22), amountMinor: 5_000 }), config).changes).toEqual([]);
  });

  it('a cancelled order does not count at all', () => {
    const { state } = run([completed({ orderId: 'x', at: day(1), amountMinor: 60_000 }), cancelled({ orderId: 'x', at: day(2) })]);
    expect(describeState(state, config)).toMatchObject({ lifetimeOrders: 0, monetaryMinor: 0, points: 0 });
    expect(state.memberships).toMatchObject({ stage: 'prospect', tier: null, rfmSegment: null });
  });

  it('erasure emits exits from every segment and ignores what came before it', () => {
    const { state } = run([registered(day(0)), consent(day(1), true), ...steadyYear(), interaction({ at: day(300), csat: 5, nps: 10 })]);
    const before = state.memberships;
    expect(before).toMatchObject({ stage: 'advocate', quadrant: 'apostle', custom: ['vip'] });
    const r = apply(state, erasure(day(340)), config);
    expect(r.state.memberships).toEqual({ rfmSegment: null, stage: null, tier: null, satisfaction: null, expectationGap: null, quadrant: null, custom: [] });
    const exits = r.changes.map((c) => `${c.dimension}:${c.segment ?? ''}:${c.from}`);
    expect(exits.sort()).toEqual(
      [
        'custom:vip:member',
        `expectation_gap::${before.expectationGap}`,
        'quadrant::apostle',
        `rfm_segment::${before.rfmSegment}`,
        'satisfaction::very_high',
        'stage::advocate',
        'tier::gold',
      ].sort(),
    );
    expect(r.changes.every((c) => c.to === null && c.reason === 'erased')).toBe(true);
    expect(r.state).toMatchObject({ erasedAt: day(340), orders: [], interactions: [], past: null, registeredAt: null, consent: null, nps: null });
    const late = apply(r.state, completed({ orderId: 'late', at: day(339) }), config);
    expect(late).toMatchObject({ outcome: 'erased', changes: [] });
    const fresh = apply(r.state, registered(day(341)), config);
    expect(fresh.state.memberships.stage).toBe('prospect');
  });
});
