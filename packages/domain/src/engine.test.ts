/** Edge behaviour of the entry points that the stories do not show. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as domain from './index.ts';
import { completed, day, interaction, refunded, registered } from './testing/events.ts';
import { isoToMs } from './time.ts';

const { apply, defaultDomainConfig: config, evaluate, nextDueAt, parseDomainConfig, rescore } = domain;

describe('engine edges', () => {
  it('refuses an event of another customer with a typed error', () => {
    const s = apply(null, registered(day(0)), config).state;
    const other = { ...registered(day(1)), subject: 'cust-0002' };
    expect(() => apply(s, other, config)).toThrow(domain.CustomerMismatchError);
    expect(() => apply(s, other, config)).toThrow(expect.objectContaining({ code: 'customer_mismatch', retriable: false }));
  });

  it('folds events later than the lateness allowance in, and prunes only when time moves', () => {
    const late = apply(
      apply(null, completed({ orderId: 'now', at: day(800) }), config).state,
      completed({ orderId: 'ancient', at: day(10), amountMinor: 30_000 }),
      config,
    );
    expect(late.outcome).toBe('late');
    expect(domain.describe(late.state, config)).toMatchObject({ lifetimeOrders: 2, points: 400, frequency: 1 });
    // Its refund, delivered next (a backfill): nothing was pruned, so it is still netted.
    const refund = apply(late.state, refunded({ orderId: 'ancient', at: day(12), amountMinor: 10_000 }), config);
    expect(refund.outcome).toBe('applied');
    expect(domain.describe(refund.state, config)).toMatchObject({ lifetimeOrders: 2, points: 300 });
    expect(rescore(refund.state, config).state.orders).toHaveLength(2);
    // Once time moves the order is summarized, and a further refund can no longer be netted.
    const moved = evaluate(refund.state, day(801), config).state;
    expect(moved.orders).toHaveLength(1);
    const after = apply(moved, refunded({ orderId: 'ancient', at: day(13), amountMinor: 30_000 }), config);
    expect(after.outcome).toBe('late');
    expect(domain.describe(evaluate(after.state, day(802), config).state, config)).toMatchObject({ lifetimeOrders: 2, points: 300 });

    // An old interaction: its NPS counts, its CSAT has long lapsed, and it goes at the next prune.
    const oldCase = apply(moved, interaction({ at: day(20), nps: 10, csat: 5 }), config);
    expect(oldCase.outcome).toBe('late');
    expect(domain.describe(oldCase.state, config)).toMatchObject({ npsClass: 'promoter', csatAvg: null });
    expect(evaluate(oldCase.state, day(802), config).state.interactions).toEqual([]);
    // An old complaint resolved, then followed up without resolution: open, kept whatever its age.
    const complaint = apply(moved, interaction({ at: day(30), interactionId: 'c1', reason: 'complaint' }), config);
    const followUp = apply(complaint.state, interaction({ at: day(35), caseId: 'c1', resolution: 'pending' }), config);
    const kept = evaluate(followUp.state, day(2000), config).state;
    expect(kept.interactions).toHaveLength(2);
    expect(domain.describe(kept, config)).toMatchObject({ openComplaints: 1 });
  });

  it('rescores under new quantile cuts without moving time', () => {
    const s = apply(null, completed({ orderId: 'a', at: day(0), amountMinor: 1_000 }), config).state;
    expect(s.memberships.rfmSegment).toBe('new_customers');
    const strict = parseDomainConfig({ rfm: { cuts: { r: [30, 60, 90, 180], f: [1, 1, 1, 1], m: [1, 1, 1, 1] } } });
    const r = rescore(s, strict);
    expect(r.state.asOf).toBe(s.asOf);
    expect(r.changes).toEqual([
      expect.objectContaining({ dimension: 'rfm_segment', from: 'new_customers', to: 'champions', cause: expect.objectContaining({ kind: 'rescore' }) }),
    ]);
    // A customer nothing will ever change for has no due time; evaluating backwards changes nothing.
    const prospect = apply(null, registered(day(0)), config).state;
    expect(nextDueAt(prospect, config)).toBeNull();
    expect(evaluate(prospect, day(-5), config)).toEqual({ state: prospect, changes: [] });
  });

  it('change ids are deterministic hashes of the move', () => {
    const a = domain.changeId('c', 'stage', null, 'new', 'repeat', '2024-01-01T00:00:00.000Z');
    expect(a).toBe(domain.changeId('c', 'stage', null, 'new', 'repeat', '2024-01-01T00:00:00.000Z'));
    expect(a).not.toBe(domain.changeId('c', 'stage', null, 'new', 'repeat', '2024-01-01T00:00:01.000Z'));
    // Public ids: the first 32 hex digits of SHA-256 over the JSON of the move, forever.
    expect(a).toBe('cabf182e2b1eec1ad3d76d11630354fb');
    expect(domain.changeId('cust-0001', 'custom', 'vip', 'member', null, '2026-01-31T12:00:00.000Z')).toBe('3d7c8dc48245cebeed3be56e1092f0e4');
    const json = JSON.stringify(['cust-é', 'tier', null, null, 'gold', '2024-02-29T23:59:59.999Z']);
    expect(domain.changeId('cust-é', 'tier', null, null, 'gold', '2024-02-29T23:59:59.999Z')).toBe(
      createHash('sha256').update(json).digest('hex').slice(0, 32),
    );
  });

  it('answers nextDueAt and describe the same for the state apply returned, a decoded copy and another config', () => {
    const other = parseDomainConfig({ rfm: { cuts: { r: [10, 20, 30, 40], f: [1, 2, 3, 4], m: [100, 200, 300, 400] } } });
    let s = apply(null, registered(day(0)), config).state;
    for (const e of [completed({ orderId: 'a', at: day(1) }), completed({ orderId: 'b', at: day(50) }), interaction({ at: day(51), csat: 5 })]) {
      s = apply(s, e, config).state;
      const copy = domain.decodeState(domain.encodeState(s));
      expect(nextDueAt(s, config)).toBe(nextDueAt(copy, config));
      expect(domain.describe(s, config)).toEqual(domain.describe(copy, config));
      expect(nextDueAt(s, other)).toBe(nextDueAt(copy, other));
      expect(domain.describe(s, other)).toEqual(domain.describe(copy, other));
    }
    expect(domain.describe(s, other).m).not.toBe(domain.describe(s, config).m);
  });

  it('reports config errors with the path of the first bad node', () => {
    try {
      parseDomainConfig({ orders: { windowDays: -1 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(domain.ConfigError);
      expect((e as domain.ConfigError).path).toBe('orders.windowDays');
      expect(e).toBeInstanceOf(domain.DomainError);
    }
    expect(() => isoToMs('yesterday')).toThrow(RangeError);
  });
});
