/** Reads derive at the read's instant and keep the stored memberships. */
import { describe, expect, it } from 'vitest';
import { parseDomainConfig, withRfmCuts } from './config.ts';
import { apply, holdsMembership } from './engine.ts';
import { readCustomer } from './read.ts';
import type { CustomerState } from './state.ts';
import { completed, day } from './testing/events.ts';

const config = parseDomainConfig({});

function customer(): CustomerState {
  let s: CustomerState | null = null;
  for (const e of [completed({ orderId: 'a', at: day(0), amountMinor: 10_000 }), completed({ orderId: 'b', at: day(10), amountMinor: 5_000 })])
    s = apply(s, e, config).state;
  return s as CustomerState;
}

describe('readCustomer', () => {
  it('derives recency and tenure at the read instant, not at the stored asOf', () => {
    const s = customer();
    expect(s.asOf).toBe(day(10));
    const read = readCustomer(s, day(45), config);
    expect(read).toMatchObject({ customerId: s.customerId, at: day(45), evaluatedAt: day(10) });
    expect(read.fields).toMatchObject({ recencyDays: 35, tenureDays: 45, lastPurchaseAt: day(10), previousPurchaseAt: day(0), frequency: 2, r: 4 });
  });

  it('keeps the memberships the index holds, even where the rules at the read instant would differ', () => {
    const s = customer();
    // 400 days on, the stored state (not re-evaluated) still says repeat; the window is empty by then.
    const read = readCustomer(s, day(410), config);
    expect(read.memberships).toBe(s.memberships);
    expect(read.memberships.stage).toBe('repeat');
    expect(read.fields).toMatchObject({ recencyDays: 400, frequency: 0, monetaryMinor: 0, lifetimeOrders: 2, r: 1 });
  });

  it('reads an instant before the stored asOf at the asOf (earlier window figures are not known)', () => {
    const s = customer();
    expect(readCustomer(s, day(5), config)).toMatchObject({ at: day(10), fields: { recencyDays: 0 } });
  });

  it('scores with the cuts it is given (quantile mode: the stored ones)', () => {
    const s = customer();
    const cuts = { r: [1, 2, 3, 4], f: [1, 1, 1, 1], m: [1, 2, 3, 4] };
    expect(readCustomer(s, day(12), withRfmCuts(config, cuts)).fields).toMatchObject({ r: 3, f: 5, m: 5 });
    expect(readCustomer(s, day(12), config).fields).toMatchObject({ r: 5, f: 2, m: 2 });
  });
});

describe('holdsMembership', () => {
  it('matches a closed dimension by its membership field and custom by segment name', () => {
    const m = { ...customer().memberships, custom: ['big_spender'] };
    expect(m.stage).not.toBeNull();
    expect(holdsMembership(m, 'stage', m.stage as string)).toBe(true);
    expect(holdsMembership(m, 'stage', 'no_such_stage')).toBe(false);
    expect(holdsMembership(m, 'expectation_gap', String(m.expectationGap))).toBe(m.expectationGap !== null);
    expect(holdsMembership(m, 'custom', 'big_spender')).toBe(true);
    expect(holdsMembership(m, 'custom', 'stage')).toBe(false);
  });
});
