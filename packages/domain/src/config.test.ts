import { describe, expect, it } from 'vitest';
import { DEFAULT_RFM_SEGMENT_RULES, defaultDomainConfig, matchRfmSegment, parseDomainConfig } from './config.ts';
import { ConfigError } from './errors.ts';

function issuePaths(input: unknown): string[] {
  try {
    parseDomainConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => i.path);
  }
  throw new Error('expected a ConfigError');
}

const ok = { field: 'frequency', op: 'gte', value: 3 };

describe('parseDomainConfig', () => {
  it('fills every default from an empty object', () => {
    expect(parseDomainConfig({})).toEqual(defaultDomainConfig);
    expect(parseDomainConfig(undefined)).toEqual(defaultDomainConfig);
    expect(defaultDomainConfig).toMatchObject({
      orders: { windowDays: 365 },
      retention: { lateArrivalDays: 30 },
      rfm: { cuts: { r: [30, 60, 90, 180], f: [2, 3, 5, 10], m: [5_000, 20_000, 50_000, 100_000] } },
      stage: { atRiskDays: 90, lapsedDays: 180, churnedDays: 365, reactivationGapDays: 365, loyalMinFrequency: 5, loyalMinTenureDays: 180 },
      loyalty: { minorPerPoint: 100, tiers: { bronze: 10_000, silver: 50_000, gold: 150_000, platinum: 500_000 } },
      satisfaction: { csatWindowDays: 180 },
      segments: [],
    });
  });

  it('keeps given values and defaults the rest of the same object', () => {
    const c = parseDomainConfig({ stage: { atRiskDays: 60 }, rfm: { cuts: { r: [7, 14, 30, 60], f: [1, 2, 3, 4], m: [1, 2, 3, 4] } } });
    expect(c.stage).toMatchObject({ atRiskDays: 60, lapsedDays: 180 });
    expect(c.rfm.segments).toEqual(DEFAULT_RFM_SEGMENT_RULES);
  });

  it('points at the bad node of a user-defined rule', () => {
    const segments = [
      { name: 'a', rule: ok },
      { name: 'b', rule: ok },
      { name: 'c', rule: { all: [ok, { field: 'frequency', op: 'bigger', value: 3 }] } },
    ];
    expect(issuePaths({ segments })).toEqual(['segments[2].rule.all[1].op']);
    expect(() => parseDomainConfig({ segments })).toThrow(/segments\[2\]\.rule\.all\[1\]\.op: must be one of eq, ne/);
  });

  it.each([
    [{ any: [] }, 'r.any'],
    [{ not: { field: 'nope', op: 'eq', value: 1 } }, 'r.not.field'],
    [{ field: 'stage', op: 'eq', value: 'vip' }, 'r.value'],
    [{ field: 'stage', op: 'gt', value: 'loyal' }, 'r.op'],
    [{ field: 'marketingConsent', op: 'eq', value: 'yes' }, 'r.value'],
    [{ field: 'points', op: 'gte', value: '10' }, 'r.value'],
    [{ field: 'points', between: [10, 1] }, 'r.between'],
    [{ field: 'points', between: [10] }, 'r.between'],
    [{ field: 'tier', between: [1, 2] }, 'r.between'],
    [{ field: 'tier', in: ['gold', 'diamond'] }, 'r.in[1]'],
    [{ field: 'tier', in: [] }, 'r.in'],
    [{ field: 'tier' }, 'r'],
    [{ field: 'tier', op: 'eq', value: 'gold', extra: 1 }, 'r.extra'],
    [{ all: [ok], any: [ok] }, 'r.any'],
    [{ hello: 1 }, 'r'],
    ['frequency > 3', 'r'],
  ])('rejects rule %j at %s', (rule, path) => {
    expect(issuePaths({ segments: [{ name: 's', rule }] })).toEqual([path.replace(/^r/, 'segments[0].rule')]);
  });

  it('rejects rules nested too deep', () => {
    let rule: unknown = ok;
    for (let i = 0; i < 20; i++) rule = { not: rule };
    expect(issuePaths({ segments: [{ name: 'deep', rule }] })[0]).toMatch(/^segments\[0\]\.rule(\.not)+$/);
  });

  it('rejects bad names, duplicate names and unknown keys with their paths', () => {
    expect(issuePaths({ segments: [{ name: 'has space', rule: ok }] })).toEqual(['segments[0].name']);
    expect(
      issuePaths({
        segments: [
          { name: 'x', rule: ok },
          { name: 'x', rule: ok },
        ],
      }),
    ).toEqual(['segments[1].name']);
    expect(issuePaths({ stage: { atRiskDayz: 3 } })).toEqual(['stage']);
    expect(issuePaths({ orders: { windowDays: 0 } })).toEqual(['orders.windowDays']);
    expect(issuePaths({ rfm: { cuts: { r: [1, 2, 3], f: [1, 2, 3, 4], m: [1, 2, 3, 4] } } })).toEqual(['rfm.cuts.r']);
    expect(issuePaths({ rfm: { cuts: { r: [4, 3, 2, 1], f: [1, 2, 3, 4], m: [1, 2, 3, 4] } } })).toEqual(['rfm.cuts.r']);
  });

  it('checks invariants across fields with helpful words', () => {
    expect(issuePaths({ stage: { atRiskDays: 200 } })).toEqual(['stage.lapsedDays', 'stage.loyalMinTenureDays']);
    expect(issuePaths({ stage: { churnedDays: 100 } })).toEqual(['stage.churnedDays']);
    expect(issuePaths({ loyalty: { tiers: { bronze: 10, silver: 5, gold: 20, platinum: 30 } } })).toEqual(['loyalty.tiers']);
    expect(issuePaths({ satisfaction: { lowBelow: 1.5 } })).toEqual(['satisfaction']);
    expect(() => parseDomainConfig({ orders: { windowDays: 200 } })).toThrow(/loyalMinTenureDays \+ atRiskDays must not exceed orders.windowDays/);
  });

  it('rejects an RFM segment table that could make a segment flap with time alone', () => {
    const segments = [{ segment: 'champions', r: [5, 5] }, { segment: 'lost', r: [4, 4] }, { segment: 'champions', r: [3, 3] }, { segment: 'hibernating' }];
    expect(() => parseDomainConfig({ rfm: { segments } })).toThrow(/rfm.segments: segment champions is not order-convex/);
  });

  it('the default table names every cell of the grid', () => {
    for (let r = 1; r <= 5; r++)
      for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) expect(matchRfmSegment(DEFAULT_RFM_SEGMENT_RULES, r, f, m)).not.toBeNull();
    expect(matchRfmSegment([{ segment: 'lost', r: [1, 1] }], 5, 5, 5)).toBeNull();
    expect(matchRfmSegment(DEFAULT_RFM_SEGMENT_RULES, 5, 5, 4)?.segment).toBe('champions');
    expect(matchRfmSegment(DEFAULT_RFM_SEGMENT_RULES, 1, 5, 5)?.segment).toBe('cant_lose_them');
  });
});
