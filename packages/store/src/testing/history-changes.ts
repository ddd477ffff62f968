/**
 * fast-check arbitraries of recent-change history input (history.ts): changes with odd text,
 * times, topics, offsets and event ids, grouped as the changes of one apply are.
 */
import { DIMENSIONS, INPUT_TOPICS } from '@crm/contracts';
import fc from 'fast-check';
import { HISTORY_CODES, type HistoryEntry } from '../history.ts';

type Change = Omit<HistoryEntry, 'id'>;

/** A customer's first order's stage change, caused by the event at `offset` of `topic`. */
export const event = (offset: string, topic: string, partition = 4): Change => ({
  time: '2026-01-02T10:00:00.000Z',
  dimension: 'stage',
  segment: null,
  from: null,
  to: 'new',
  reason: 'lifetime_orders=1',
  cause: { kind: 'event', topic, partition, offset, eventId: null, dueAt: null },
});

/** Topic suffixes, configured or in a topic's name. */
export const SUFFIXES = ['', '.staging', '.bench-tput-mwtjdirp-77918f', '.x|y', "'"];
const odd = fc.constantFrom('%', ',', '/', ';', '|', "'", '!', '%2C', "'x", '', '-', '0', '00', '1');
const string = fc.oneof(
  fc.string({ maxLength: 12 }),
  odd,
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), odd), { maxLength: 4 }).map((xs) => xs.join('')),
);
const time = fc.oneof(
  fc.integer({ min: -2_000_000_000, max: 4_102_444_800 }).map((s) => new Date(s * 1000).toISOString()),
  fc.integer({ min: -2_000_000_000_000, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()),
  fc.constantFrom('2026-01-02T10:00:00.5Z', '2026-01-02T10:00:00Z', '+275760-09-13T00:00:00.000Z', 'not a time', '2026-02-30T00:00:00.000Z'),
  string,
);
const topic = fc.oneof(
  fc.tuple(fc.constantFrom(...INPUT_TOPICS), fc.constantFrom(...SUFFIXES)).map(([t, s]) => t + s),
  fc.constantFrom('crm.segment-changes.v1', 'commerce.orders', ''),
  string,
);
const offset = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
  fc.nat().map(String),
  fc.constantFrom('0', '007', '999999999999999', '1000000000000000', '-1', '1e3', '0x1', ' 1', '1.5'),
  string,
);
const eventId = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid().map((u) => u.replaceAll('-', '')),
  // 36 characters that are not quite one.
  fc.tuple(fc.uuid(), fc.nat(35), fc.constantFrom('-', 'g', 'A', 'x', '0', '\u00e9')).map(([u, i, c]) => u.slice(0, i) + c + u.slice(i + 1)),
  fc.constantFrom('c0074-e1'),
  string,
);
const cause = fc.oneof(
  fc.record({
    kind: fc.constant('event' as const),
    topic: fc.option(topic, { nil: null }),
    partition: fc.option(fc.oneof(fc.nat(6), fc.nat(100_000)), { nil: null }),
    offset: fc.option(offset, { nil: null }),
    eventId: fc.option(eventId, { nil: null }),
    dueAt: fc.constant(null),
  }),
  fc
    .tuple(fc.constantFrom('timer' as const, 'rescore' as const), fc.option(time, { nil: null }))
    .map(([kind, dueAt]) => ({ kind, topic: null, partition: null, offset: null, eventId: null, dueAt })),
);
const values = [...new Set(Object.values(HISTORY_CODES.values).flat())];
const name = fc.oneof(fc.constantFrom(...values, 'x', 'vip, big'), string);
const change: fc.Arbitrary<Change> = fc
  .record({
    time,
    dimension: fc.oneof(fc.constantFrom(...DIMENSIONS), string),
    segment: fc.option(name, { nil: null }),
    from: fc.option(name, { nil: null }),
    to: fc.option(name, { nil: null }),
    reason: fc.oneof(fc.constantFrom(...HISTORY_CODES.reasons), string),
    cause,
  })
  // The rule's own reason, as the domain gives it, half the time.
  .chain((c) =>
    fc.constantFrom(c, {
      ...c,
      reason: c.dimension === 'custom' ? (c.to === null ? `rule_not_met:${c.segment}` : `rule:${c.segment}`) : `rule:${c.to}`,
    }),
  );
// The changes of one apply share their time and cause (a timer's dueAt mostly its time).
export const applied = fc.array(change, { maxLength: 5 }).chain((cs) =>
  fc.constantFrom('apart', 'together', 'timer').map((how) => {
    const first = cs[0];
    if (first === undefined || how === 'apart') return cs;
    const shared = how === 'timer' && first.cause.kind !== 'event' ? { ...first.cause, dueAt: first.time } : first.cause;
    return cs.map((c) => ({ ...c, time: first.time, cause: shared }));
  }),
);
