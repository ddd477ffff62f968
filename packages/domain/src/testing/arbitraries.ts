/**
 * fast-check arbitraries of realistic event logs for one customer over about three years:
 * orders with cumulative refunds, cancellations, exact and conflicting duplicates; service
 * cases with follow-ups, CSAT and NPS; registrations, consent changes and maybe an erasure.
 */
import type { InputEvent, InteractionReason, Resolution } from '@crm/contracts';
import fc from 'fast-check';
import { DAY_MS } from '../time.ts';
import { completed, consent, erasure, interaction, orderEvent, refunded, registered } from './events.ts';

/** 2023-01-01T00:00:00Z. */
export const LOG_START = Date.UTC(2023, 0, 1);
export const LOG_SPAN_DAYS = 3 * 365;
/** Every event of a log lies within this many days of LOG_START (refunds trail their order by up to 60 days). */
export const LOG_REACH_DAYS = LOG_SPAN_DAYS + 61;
const HOUR_MS = 3_600_000;

/** Any instant of the log, to the millisecond (facts are floored to the second). */
const instant = fc.integer({ min: 0, max: LOG_SPAN_DAYS * DAY_MS }).map((x) => LOG_START + x);
const within = (maxMs: number) => fc.integer({ min: 0, max: maxMs });
/** `arb` with probability pct %, else null. */
function sometimes<T>(arb: fc.Arbitrary<T>, pct: number): fc.Arbitrary<T | null> {
  return fc.oneof({ arbitrary: fc.constant(null), weight: 100 - pct }, { arbitrary: arb, weight: pct });
}
/** Days between consecutive orders: mostly regular buying, sometimes a pause, rarely a long silence. */
const gapDays = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 45 }), weight: 6 },
  { arbitrary: fc.integer({ min: 46, max: 200 }), weight: 2 },
  { arbitrary: fc.integer({ min: 300, max: 500 }), weight: 1 },
);

const orderArb = fc.record({
  gap: gapDays,
  jitter: within(DAY_MS),
  amount: fc.integer({ min: 100, max: 200_000 }),
  /** Cumulative refunds: increasing in time and in amount (fractions of the amount, in tenths). */
  refunds: fc.oneof(
    { arbitrary: fc.constant([]), weight: 4 },
    { arbitrary: fc.uniqueArray(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 2 }), weight: 1 },
  ),
  refundDelay: within(60 * DAY_MS),
  cancelAfter: sometimes(within(5 * DAY_MS), 10),
  /** A second, different 'completed' for the same order (another id, amount and time). */
  conflict: sometimes(fc.record({ after: within(DAY_MS), amount: fc.integer({ min: 100, max: 200_000 }) }), 10),
  /** A second 'refunded' at the same instant with another amount (the larger must win). */
  refundConflict: sometimes(fc.integer({ min: 1, max: 10 }), 30),
});

const reasons: readonly InteractionReason[] = ['inquiry', 'order_issue', 'billing', 'technical', 'complaint', 'complaint', 'compliment', 'other'];
const resolutions: readonly Resolution[] = ['resolved', 'resolved', 'unresolved', 'escalated', 'pending'];
const touchArb = fc.record({
  after: within(30 * DAY_MS),
  reason: fc.constantFrom(...reasons),
  resolution: fc.constantFrom(...resolutions),
  csat: sometimes(fc.integer({ min: 1, max: 5 }), 60),
  nps: sometimes(fc.integer({ min: 0, max: 10 }), 30),
  /** Same interaction id again with another payload, up to an hour later. */
  conflict: sometimes(
    fc.record({ after: within(HOUR_MS), csat: sometimes(fc.integer({ min: 1, max: 5 }), 50), resolution: fc.constantFrom(...resolutions) }),
    10,
  ),
});
const caseArb = fc.record({ at: instant, shared: fc.boolean(), touches: fc.array(touchArb, { minLength: 1, maxLength: 3 }) });

export const logSpecArb = fc.record({
  firstOrder: instant,
  orders: fc.array(orderArb, { maxLength: 16 }),
  cases: fc.array(caseArb, { maxLength: 4 }),
  registrations: fc.array(instant, { maxLength: 2 }),
  consents: fc.array(fc.record({ at: instant, value: fc.boolean() }), { maxLength: 3 }),
  erasure: sometimes(instant, 15),
  /** Indexes (mod log length) of events delivered twice, byte for byte. */
  exactDuplicates: fc.array(fc.nat(), { maxLength: 4 }),
});
export type LogSpec = typeof logSpecArb extends fc.Arbitrary<infer T> ? T : never;

/** Natural key of an event: events with equal keys are duplicates (maybe conflicting). */
function naturalKey(e: InputEvent): string {
  if (e.type === 'service.interaction.recorded') return `i:${(e.data as { interactionId: string }).interactionId}`;
  if ('orderId' in e.data) return `o:${e.data.orderId}:${e.type}`;
  return `p:${e.type}`;
}

/** Builds the event log of a spec (in generation order). */
export function buildLog(spec: LogSpec): InputEvent[] {
  let n = 0;
  const id = (): string => `e-${++n}`;
  const log: InputEvent[] = [];
  let at = spec.firstOrder;
  spec.orders.forEach((o, i) => {
    const orderId = `o-${i}`;
    at += o.gap * DAY_MS + o.jitter;
    if (at > LOG_START + LOG_SPAN_DAYS * DAY_MS) return;
    const order = { ...o, at };
    log.push(completed({ orderId, at, amountMinor: o.amount, id: id() }));
    const steps = [...o.refunds].sort((a, b) => a - b);
    steps.forEach((tenths, k) => {
      const at = order.at + Math.floor((o.refundDelay * (k + 1)) / steps.length) + k * 1000;
      log.push(refunded({ orderId, at, amountMinor: Math.floor((o.amount * tenths) / 10), id: id() }));
      if (k === 0 && o.refundConflict !== null) log.push(refunded({ orderId, at, amountMinor: Math.floor((o.amount * o.refundConflict) / 10), id: id() }));
    });
    if (o.cancelAfter !== null) log.push(orderEvent('commerce.order.cancelled', { orderId, at: order.at + o.cancelAfter, amountMinor: o.amount, id: id() }));
    if (o.conflict !== null) log.push(completed({ orderId, at: order.at + o.conflict.after, amountMinor: o.conflict.amount, id: id() }));
  });
  spec.cases.forEach((c, i) => {
    c.touches.forEach((t, k) => {
      const interactionId = `i-${i}-${k}`;
      const caseId = c.shared ? `case-${i}` : k === 0 ? null : `i-${i}-0`;
      const at = c.at + t.after;
      log.push(interaction({ at, interactionId, caseId, reason: t.reason, resolution: t.resolution, csat: t.csat, nps: t.nps, id: id() }));
      if (t.conflict !== null)
        log.push(
          interaction({
            at: at + t.conflict.after,
            interactionId,
            caseId,
            reason: t.reason,
            resolution: t.conflict.resolution,
            csat: t.conflict.csat,
            nps: t.nps,
            id: id(),
          }),
        );
    });
  });
  for (const at of spec.registrations) log.push(registered(at, { id: id() }));
  for (const c of spec.consents) log.push(consent(c.at, c.value, { id: id() }));
  let events = log;
  if (spec.erasure !== null) {
    const e = Math.floor(spec.erasure / 1000) * 1000;
    // Documented limit: conflicting duplicates of one natural key on both sides of the erasure
    // instant resolve by arrival order. Keep only the side before the erasure for such keys.
    const straddling = new Set<string>();
    const sides = new Map<string, Set<boolean>>();
    for (const ev of log) {
      const k = naturalKey(ev);
      const side = Date.parse(ev.time) >= e + 1000;
      const s = sides.get(k) ?? new Set<boolean>();
      s.add(side);
      sides.set(k, s);
      if (s.size === 2) straddling.add(k);
    }
    events = log.filter((ev) => !(straddling.has(naturalKey(ev)) && Date.parse(ev.time) >= e + 1000));
    events.push(erasure(spec.erasure, { id: id() }));
  }
  if (events.length > 0) for (const d of spec.exactDuplicates) events.push(events[d % events.length] as InputEvent);
  return events;
}

export const logArb = logSpecArb.map(buildLog);

export const maxTime = (log: readonly InputEvent[]): number => log.reduce((m, e) => Math.max(m, Date.parse(e.time)), LOG_START);

/** Stable sort by event time. */
export const byTime = (log: readonly InputEvent[]): InputEvent[] =>
  log
    .map((e, i) => ({ e, i, t: Date.parse(e.time) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
