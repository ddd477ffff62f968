/** The packed recent-change history: what goes in comes out, newest first, trimmed, with its ids. */
import { DIMENSIONS } from '@crm/contracts';
import { changeId } from '@crm/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HistoryEntry, prependHistory, unpackHistory } from './history.ts';

type Change = Omit<HistoryEntry, 'id'>;

const timer = (time: string, to: string, from: string | null = null): Change => ({
  time,
  dimension: 'rfm_segment',
  segment: null,
  from,
  to,
  reason: `rule:${to}`,
  cause: { kind: 'timer', topic: null, partition: null, offset: null, eventId: null, dueAt: time },
});

const order = (time: string, offset: string): Change[] => {
  const cause = { kind: 'event' as const, topic: 'commerce.orders.v1', partition: 3, offset, eventId: `c1-e${offset}`, dueAt: null };
  return [
    { time, dimension: 'stage', segment: null, from: 'new', to: 'repeat', reason: 'lifetime_orders>=2', cause },
    { time, dimension: 'tier', segment: null, from: 'none', to: 'bronze', reason: 'window_spend>=10000', cause },
    { time, dimension: 'custom', segment: 'vip | "big" spenders\n', from: null, to: 'member', reason: 'rule', cause },
  ];
};

const withIds = (customerId: string, changes: Change[]): HistoryEntry[] =>
  changes.map((c) => ({ id: changeId(customerId, c.dimension as (typeof DIMENSIONS)[number], c.segment, c.from, c.to, c.time), ...c }));

describe('packed history', () => {
  it('returns the changes newest first with their deterministic ids', () => {
    const first = [timer('2026-01-01T00:00:00.000Z', 'need_attention', 'champions')];
    const second = order('2026-01-02T10:00:00.000Z', '29389');
    const packed = prependHistory(prependHistory(null, first, 5), second, 5);
    expect(unpackHistory('c1', packed)).toEqual(withIds('c1', [...second].reverse().concat(first)));
  });

  it('keeps the newest `length` changes, even when that splits the changes of one event', () => {
    const changes = [timer('2026-01-01T00:00:00.000Z', 'lost'), ...order('2026-01-02T10:00:00.000Z', '7')];
    const packed = prependHistory(null, changes, 2);
    expect(unpackHistory('c1', packed).map((e) => e.dimension)).toEqual(['custom', 'tier']);
    // Trimming an older history leaves lines that still know their time and cause.
    const trimmed = prependHistory(prependHistory(null, order('2026-01-02T10:00:00.000Z', '7'), 5), [timer('2026-02-01T00:00:00.000Z', 'lost')], 2);
    expect(unpackHistory('c1', trimmed)).toEqual(
      withIds('c1', [timer('2026-02-01T00:00:00.000Z', 'lost'), order('2026-01-02T10:00:00.000Z', '7')[2] as Change]),
    );
  });

  it('is null when nothing is kept, and empty when nothing is stored', () => {
    expect(prependHistory(null, [], 5)).toBeNull();
    expect(unpackHistory('c1', null)).toEqual([]);
  });

  it('packs the two changes of a typical order in well under the 380 bytes of one JSON CloudEvent each', () => {
    const packed = prependHistory(null, order('2026-01-02T10:00:00.000Z', '29389').slice(0, 2), 5) ?? '';
    expect(packed.length).toBeLessThan(140);
  });

  it('round-trips any changes, unknown values and odd times included', () => {
    const text = fc.string({ maxLength: 12 });
    const time = fc.oneof(
      fc.integer({ min: 0, max: 4_102_444_800 }).map((s) => new Date(s * 1000).toISOString()),
      fc.constant('2026-01-02T10:00:00.5Z'),
    );
    const cause = fc.oneof(
      fc.record({
        kind: fc.constant('event' as const),
        topic: text,
        partition: fc.nat(1000),
        offset: fc.nat().map(String),
        eventId: text,
        dueAt: fc.constant(null),
      }),
      fc.record({
        kind: fc.constantFrom('timer' as const, 'rescore' as const),
        topic: fc.constant(null),
        partition: fc.constant(null),
        offset: fc.constant(null),
        eventId: fc.constant(null),
        dueAt: time,
      }),
    );
    const value = fc.oneof(fc.constantFrom('champions', 'at_risk', 'gold', 'member', 'apostle'), text);
    const change: fc.Arbitrary<Change> = fc.record({
      time,
      dimension: fc.constantFrom(...DIMENSIONS),
      segment: fc.option(text, { nil: null }),
      from: fc.option(value, { nil: null }),
      to: fc.option(value, { nil: null }),
      reason: fc.oneof(text, fc.constant('rule:champions')),
      cause,
    });
    fc.assert(
      fc.property(fc.array(fc.array(change, { maxLength: 4 }), { maxLength: 4 }), fc.integer({ min: 1, max: 8 }), (batches, length) => {
        let packed: string | null = null;
        for (const b of batches) packed = prependHistory(packed, b, length);
        const expected = withIds('c-1', batches.flat().reverse().slice(0, length));
        expect(unpackHistory('c-1', packed)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
