import { describe, expect, it } from 'vitest';
import { READING_COLUMNS, parseAt, parseWhere, readingRow } from './reading.ts';

describe('reads', () => {
  it('take --at as an ISO-8601 UTC instant and refuse anything else', () => {
    expect(parseAt('2026-12-03T12:00:00Z')).toBe(Date.parse('2026-12-03T12:00:00Z'));
    expect(parseAt(undefined)).toBeUndefined();
    for (const bad of ['2026-12-03', '2026-12-03T12:00:00', 'now', '2026-02-30T00:00:00Z'])
      expect(() => parseAt(bad), bad).toThrow(/--at must be an ISO-8601 UTC instant/);
  });

  it('filter on a dimension by its event or membership name, a value without regard to case, spaces or dashes', () => {
    expect(parseWhere('stage=loyal')).toEqual({ dimension: 'stage', value: 'loyal' });
    expect(parseWhere('rfmSegment=Champions')).toEqual({ dimension: 'rfm_segment', value: 'champions' });
    expect(parseWhere('rfm_segment=Cant Lose Them')).toEqual({ dimension: 'rfm_segment', value: 'cant_lose_them' });
    expect(parseWhere('expectationGap=unmet')).toEqual({ dimension: 'expectation_gap', value: 'unmet' });
    expect(parseWhere('custom=Big-Spender')).toEqual({ dimension: 'custom', value: 'Big-Spender' });
    expect(() => parseWhere('stage')).toThrow(/--where must be dimension=value/);
    expect(() => parseWhere('colour=red')).toThrow(/dimension one of rfm_segment, stage, tier/);
    expect(() => parseWhere('tier=diamond')).toThrow(/--where tier: unknown value "diamond" \(one of none, bronze, silver, gold, platinum\)/);
    expect(() => parseWhere('custom=a b')).toThrow(/not a segment name/);
  });

  it('name the CSV columns in the order of the row', () => {
    const row = readingRow(
      {
        customerId: 'c',
        at: 0,
        evaluatedAt: 0,
        memberships: { rfmSegment: null, stage: null, tier: null, satisfaction: null, expectationGap: null, quadrant: null, custom: [] },
        fields: {
          lastPurchaseAt: null,
          firstPurchaseAt: null,
          previousPurchaseAt: null,
          recencyDays: null,
          tenureDays: null,
          frequency: 0,
          monetaryMinor: 0,
          r: null,
          f: null,
          m: null,
          lifetimeOrders: 0,
          lifetimeNetMinor: 0,
          points: 0,
          csatAvg: null,
          npsClass: null,
          openComplaints: 0,
          marketingConsent: null,
          registered: false,
        },
      },
      0,
    );
    expect(Object.keys(row)).toEqual([...READING_COLUMNS]);
  });
});
