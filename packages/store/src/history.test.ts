/** The packed recent-change history: what goes in comes out, newest first, trimmed, with its ids. */
import { type DIMENSIONS, INPUT_TOPICS } from '@crm/contracts';
import { type CustomerState, apply, changeId, defaultDomainConfig, evaluate } from '@crm/domain';
import { generateEvents } from '@crm/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HistoryEntry, prependHistory, unpackHistory } from './history.ts';
import { applied, event } from './testing/history-changes.ts';

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

  it('packs the two changes of a typical order in a few dozen bytes', () => {
    const cause = {
      kind: 'event' as const,
      topic: 'commerce.orders.v1',
      partition: 0,
      offset: '1234567',
      eventId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
      dueAt: null,
    };
    const changes: Change[] = [
      { time: '2026-01-02T10:00:00.000Z', dimension: 'stage', segment: null, from: 'new', to: 'repeat', reason: 'lifetime_orders>=2', cause },
      { time: '2026-01-02T10:00:00.000Z', dimension: 'rfm_segment', segment: null, from: 'promising', to: 'champions', reason: 'rule:champions', cause },
    ];
    const packed = prependHistory(null, changes, 5) ?? '';
    expect(packed.length).toBeLessThan(55);
    expect(unpackHistory('c1', packed)).toEqual(withIds('c1', [...changes].reverse()));
  });

  it('writes the bytes it always wrote, so stored histories stay readable', () => {
    const cause = {
      kind: 'event' as const,
      topic: 'commerce.orders.v1.staging',
      partition: 2,
      offset: '1234567',
      eventId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
      dueAt: null,
    };
    const none = { topic: null, partition: null, offset: null, eventId: null };
    const changes: Change[] = [
      { ...timer('2025-12-31T23:59:59.000Z', 'at_risk', 'champions') },
      { time: '2026-01-02T10:00:00.123Z', dimension: 'stage', segment: null, from: 'new', to: 'repeat', reason: 'lifetime_orders>=2', cause },
      { time: '2026-01-02T10:00:00.123Z', dimension: 'custom', segment: 'vip, big', from: null, to: 'member', reason: 'rule:vip, big', cause },
      {
        time: '2026-02-29T00:00:00Z',
        dimension: 'tier',
        segment: null,
        from: null,
        to: 'gold',
        reason: 'window_spend>=150000',
        cause: { ...cause, topic: 'service.interactions.v1', partition: 5, offset: '007', eventId: 'e-1' },
      },
      {
        time: '1969-07-20T20:17:40.000Z',
        dimension: 'satisfaction',
        segment: null,
        from: 'low',
        to: null,
        reason: 'erased',
        cause: { kind: 'rescore', ...none, dueAt: null },
      },
    ];
    // As the release before the faster packing wrote it, one change per commit.
    const stored =
      ";-8fzmk,r,!/31-,15;'2026-02-29T00:00:00Z,e,1,'007,'e-1,5/2-3,13;.mjwpd8jf,e,0,qglj,bxwqO01eT2CKe5wNHi86Sw,2,'.staging/6-0,,'vip%2C big;.mjwpd8jf,e,0,qglj,bxwqO01eT2CKe5wNHi86Sw,2,'.staging/112,3;t85rzz,t/007";
    expect(unpackHistory('c1', stored)).toEqual(withIds('c1', [...changes].reverse()));
    expect(changes.reduce<string | null>((packed, c) => prependHistory(packed, [c], 10), null)).toBe(stored);
  });

  it('writes the partition and the topic suffix once per history', () => {
    const suffix = '.bench-tput-mwtjdirp-77918f';
    const changes = [event('1', `service.interactions.v1${suffix}`, 4), event('2', `commerce.orders.v1${suffix}`, 4), event('3', 'other.topic', 4)];
    const packed = prependHistory(null, changes, 5) ?? '';
    expect(packed.split(suffix).length - 1).toBe(1);
    // The header says partition 4 for every group.
    expect(packed.startsWith(`4,'${suffix}`)).toBe(true);
    expect(packed.split(';').filter((group) => group.split('/')[0]?.split(',')[5] !== undefined)).toEqual([]);
    expect(unpackHistory('c1', packed)).toEqual(withIds('c1', [...changes].reverse()));
  });

  describe('under a configured topic suffix (CRM_TOPIC_SUFFIX)', () => {
    const suffix = '.bench-tput-mwtjdirp-77918f';

    it('leaves the configured suffix out and reads it back, other suffixes written', () => {
      const mine = [event('1', `service.interactions.v1${suffix}`), event('2', `commerce.orders.v1${suffix}`)];
      const packed = prependHistory(null, mine, 5, suffix) ?? '';
      expect(packed).not.toContain(suffix);
      expect(packed.startsWith('4;')).toBe(true);
      expect(unpackHistory('c1', packed, suffix)).toEqual(withIds('c1', [...mine].reverse()));
      // Topics under no suffix, or another, next to the configured one.
      const others = [event('3', 'commerce.orders.v1'), event('4', 'customer.profiles.v1.other'), event('5', 'other.topic')];
      const mixed = prependHistory(packed, others, 5, suffix) ?? '';
      expect(mixed).not.toContain(suffix);
      expect(unpackHistory('c1', mixed, suffix)).toEqual(withIds('c1', [...others].reverse().concat([...mine].reverse())));
      // A history whose newest topic has no suffix says so in its header: an empty one.
      const bare = prependHistory(null, [event('6', 'commerce.orders.v1')], 5, suffix) ?? '';
      expect(bare.startsWith("4,';")).toBe(true);
      expect(unpackHistory('c1', bare, suffix)[0]?.cause.topic).toBe('commerce.orders.v1');
    });

    it('reads a history that holds the suffix as written before, and leaves it out at its next write', () => {
      const before = [event('1', `commerce.orders.v1${suffix}`), { ...timer('2026-01-03T00:00:00.000Z', 'lost'), dimension: 'rfm_segment' }];
      // Written with the suffix in its header, as every history was before it was left out.
      const old = prependHistory(null, before, 5) ?? '';
      expect(old.startsWith(`4,'${suffix};`)).toBe(true);
      expect(unpackHistory('c1', old, suffix)).toEqual(withIds('c1', [...before].reverse()));
      const after = [event('2', `service.interactions.v1${suffix}`)];
      const rewritten = prependHistory(old, after, 5, suffix) ?? '';
      expect(rewritten).not.toContain(suffix);
      expect(unpackHistory('c1', rewritten, suffix)).toEqual(withIds('c1', [...before, ...after].reverse()));
    });

    it('round-trips any suffixes under any configured one', () => {
      const suffixes = ['', '.staging', suffix, '.x|y'];
      const topic = fc.oneof(
        fc.tuple(fc.constantFrom(...INPUT_TOPICS), fc.constantFrom(...suffixes)).map(([t, s]) => t + s),
        fc.constantFrom('other.topic', 'crm.segment-changes.v1'),
      );
      const change = fc.oneof(
        fc.tuple(fc.nat(1000), topic, fc.option(fc.nat(6), { nil: null })).map(([o, t, p]) => event(String(o), t, p as number)),
        fc.constant(timer('2026-01-03T00:00:00.000Z', 'lost')),
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...suffixes),
          fc.array(fc.array(change, { maxLength: 3 }), { maxLength: 4 }),
          fc.integer({ min: 1, max: 6 }),
          (configured, batches, length) => {
            let packed: string | null = null;
            for (const b of batches) packed = prependHistory(packed, b, length, configured);
            expect(unpackHistory('c1', packed, configured)).toEqual(withIds('c1', batches.flat().reverse().slice(0, length)));
          },
        ),
        { numRuns: 500 },
      );
    });
  });

  it('codes every reason the rules give under the default configuration', () => {
    const events = generateEvents({ seed: 11, customers: 300, events: 6_000, start: Date.UTC(2024, 0, 1), end: Date.UTC(2025, 11, 31) });
    const states = new Map<string, CustomerState | null>();
    // One change per reason, each as the rules gave it.
    const reasons = new Map<string, Change>();
    const keep = (changes: readonly Change[]) => {
      for (const c of changes) if (!reasons.has(c.reason)) reasons.set(c.reason, c);
    };
    for (const e of events) {
      const res = apply(states.get(e.subject) ?? null, e, defaultDomainConfig, { topic: 'commerce.orders.v1', partition: 0, offset: '1' });
      states.set(e.subject, res.state);
      keep(res.changes);
    }
    // Then time alone: recency thresholds, window expiries.
    for (const days of [30, 90, 180, 365, 730, 1100]) {
      for (const [id, state] of states) {
        if (state === null) continue;
        const res = evaluate(state, Date.UTC(2026, 0, 1) + days * 86_400_000, defaultDomainConfig);
        states.set(id, res.state);
        keep(res.changes);
      }
    }
    expect(reasons.size).toBeGreaterThan(20);
    // With a timer cause every other field is a code: text (') can only be the reason.
    const coded = (c: Change) => !(prependHistory(null, [{ ...c, cause: timer(c.time, 'lost').cause }], 1) ?? "'").includes("'");
    const uncoded = [...reasons.values()].filter((c) => !coded(c)).map((c) => c.reason);
    expect(uncoded).toEqual([]);
  });

  it('round-trips any changes, unknown values, separators and odd times included', () => {
    fc.assert(
      fc.property(fc.array(applied, { maxLength: 4 }), fc.integer({ min: 1, max: 8 }), (batches, length) => {
        let packed: string | null = null;
        for (const b of batches) {
          packed = prependHistory(packed, b, length);
          expect(packed ?? '').not.toContain('|');
        }
        const expected = withIds('c-1', batches.flat().reverse().slice(0, length));
        expect(unpackHistory('c-1', packed)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a corrupt history', () => {
    expect(() => unpackHistory('c1', 'x')).toThrow(/corrupt packed history/);
    expect(() => unpackHistory('c1', 'abc,e')).toThrow(/corrupt packed history/);
    expect(() => unpackHistory('c1', 'abc,t/9')).toThrow(/corrupt packed history/);
  });
});
