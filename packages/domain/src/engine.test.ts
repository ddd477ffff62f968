/** Edge behaviour of the entry points that the stories do not show. */
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

  it('keeps only what stays exact for events later than the lateness allowance', () => {
    let s = apply(null, completed({ orderId: 'now', at: day(800) }), config).state;
    const late = apply(s, completed({ orderId: 'ancient', at: day(10), amountMinor: 30_000 }), config);
    expect(late.outcome).toBe('late');
    expect(domain.describe(late.state, config)).toMatchObject({ lifetimeOrders: 2, points: 400, frequency: 1 });
    s = late.state;
    expect(apply(s, refunded({ orderId: 'ancient', at: day(12), amountMinor: 30_000 }), config).outcome).toBe('late');
    const oldCase = apply(s, interaction({ at: day(20), nps: 10, csat: 5 }), config);
    expect(oldCase.outcome).toBe('late');
    expect(domain.describe(oldCase.state, config)).toMatchObject({ npsClass: 'promoter', csatAvg: null });
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
