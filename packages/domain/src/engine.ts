/**
 * The domain's entry points: apply an event, let time pass, find the next instant time
 * alone would change something. Pure: time comes in as arguments, output is a new state and
 * the segment changes it implies.
 */
import { createHash } from 'node:crypto';
import type { ChangeCause, Dimension, InputEvent } from '@crm/contracts';
import type { DomainConfig } from './config.ts';
import { CustomerMismatchError } from './errors.ts';
import { type CustomerView, derive, viewKey } from './derive.ts';
import { tickThresholds } from './rules.ts';
import { type CustomerState, emptyState, type FoldOutcome, fold, type Memberships, prune } from './state.ts';
import { DAY_MS, floorSecond, isoToMs, msToIso } from './time.ts';

/** Where an event came from (Kafka coordinates); offsets are decimal strings. */
export interface CauseInfo {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** One membership moved: `to` null is an exit. */
export interface SegmentChange {
  /** Deterministic: hash of customerId, dimension, segment, from, to, time. */
  readonly id: string;
  readonly customerId: string;
  /** ISO-8601: the event's time, or for timers the exact instant the threshold was crossed. */
  readonly time: string;
  readonly dimension: Dimension;
  /** The user-defined segment's name for 'custom'; null otherwise. */
  readonly segment: string | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly reason: string;
  readonly cause: ChangeCause;
}

export interface Transition {
  readonly state: CustomerState;
  readonly changes: readonly SegmentChange[];
}

/**
 * applied: folded in; late: beyond the retention horizon behind asOf with no record of its
 * order or case held (folded in all the same; exact unless that record was already pruned,
 * see docs/segmentation.md §8); erased: at or before the erasure tombstone, ignored.
 */
export type ApplyOutcome = FoldOutcome | 'erased';

export interface ApplyResult extends Transition {
  readonly outcome: ApplyOutcome;
}

/** Value of a custom-segment membership in a change's from/to. */
export const MEMBER = 'member';

const DIMENSION_OF: readonly [keyof Omit<Memberships, 'custom'>, Dimension][] = [
  ['rfmSegment', 'rfm_segment'],
  ['stage', 'stage'],
  ['tier', 'tier'],
  ['satisfaction', 'satisfaction'],
  ['expectationGap', 'expectation_gap'],
  ['quadrant', 'quadrant'],
];

/** Deterministic change id: the same move at the same instant always has the same id. */
export function changeId(customerId: string, dimension: Dimension, segment: string | null, from: string | null, to: string | null, time: string): string {
  return createHash('sha256')
    .update(JSON.stringify([customerId, dimension, segment, from, to, time]))
    .digest('hex')
    .slice(0, 32);
}

function diff(customerId: string, before: Memberships, after: CustomerView, time: string, cause: ChangeCause, exitReason?: string): SegmentChange[] {
  const out: SegmentChange[] = [];
  const push = (dimension: Dimension, segment: string | null, from: string | null, to: string | null, reason: string): void => {
    out.push({ id: changeId(customerId, dimension, segment, from, to, time), customerId, time, dimension, segment, from, to, reason, cause });
  };
  for (const [field, dimension] of DIMENSION_OF) {
    const from = before[field];
    const to = after.memberships[field];
    if (from !== to) push(dimension, null, from, to, to === null && exitReason !== undefined ? exitReason : after.reasons[field]);
  }
  const was = new Set(before.custom);
  const is = new Set(after.memberships.custom);
  for (const name of [...new Set([...before.custom, ...after.memberships.custom])].sort()) {
    if (was.has(name) && !is.has(name)) push('custom', name, MEMBER, null, exitReason ?? `rule_not_met:${name}`);
    else if (!was.has(name) && is.has(name)) push('custom', name, null, MEMBER, `rule:${name}`);
  }
  return out;
}

function timerCause(at: number): ChangeCause {
  return { kind: 'timer', topic: null, partition: null, offset: null, eventId: null, dueAt: msToIso(at) };
}

/**
 * Recomputes memberships as of the state's asOf (after pruning, unless `keepFacts`) and
 * reports what moved. Pruning never changes a derived value, so skipping it only keeps facts.
 */
function settle(s: CustomerState, c: DomainConfig, time: string, cause: ChangeCause, exitReason?: string, keepFacts = false): Transition {
  const pruned = keepFacts ? s : prune(s, c);
  const view = derive(pruned, pruned.asOf, c);
  const changes = diff(pruned.customerId, s.memberships, view, time, cause, exitReason);
  return { state: { ...pruned, memberships: view.memberships }, changes };
}

/**
 * Candidate instants in (after, upTo] at which some derived value may change: recency
 * thresholds (R cuts, stage, custom), window expiry of each purchase (F, M, tier, stage),
 * the loyal tenure threshold (and custom tenure thresholds), the CSAT average's lapse.
 */
function candidates(v: CustomerView, c: DomainConfig, after: number, upTo: number): number[] {
  const out = new Set<number>();
  const add = (t: number): void => {
    if (t > after && t <= upTo) out.add(t);
  };
  if (v.lastPurchaseAt !== null) {
    const recency = new Set<number>([...c.rfm.cuts.r.map((x) => Math.ceil(x)), c.stage.atRiskDays, c.stage.lapsedDays, c.stage.churnedDays]);
    const tenure = new Set<number>([c.stage.loyalMinTenureDays]);
    for (const sg of c.segments) {
      tickThresholds(sg.rule, 'recencyDays', recency);
      tickThresholds(sg.rule, 'tenureDays', tenure);
    }
    for (const d of recency) add(v.lastPurchaseAt + d * DAY_MS);
    if (v.firstPurchaseAt !== null) for (const d of tenure) add(v.firstPurchaseAt + d * DAY_MS);
    for (const t of v.windowPurchaseTimes) add(t + c.orders.windowDays * DAY_MS);
  }
  if (v.csatExpiresAt !== null) add(v.csatExpiresAt);
  return [...out].sort((a, b) => a - b);
}

function nextDueWithin(s: CustomerState, c: DomainConfig, upTo: number): number | null {
  const now = derive(s, s.asOf, c);
  const key = viewKey(now);
  for (const t of candidates(now, c, s.asOf, upTo)) if (viewKey(derive(s, t, c)) !== key) return t;
  return null;
}

/**
 * The earliest instant after `state.asOf` at which the passage of time alone changes a
 * membership or a derived score (R/F/M, frequency, monetary, CSAT average), or null when
 * nothing will ever change without new events. Exact: `evaluate(state, due - 1)` changes
 * nothing, and evaluating at each successive due time sees every change. Due times are
 * whole seconds.
 */
export function nextDueAt(state: CustomerState, config: DomainConfig): number | null {
  return nextDueWithin(state, config, Infinity);
}

/**
 * Lets time pass to `now` (epoch ms) without new events. Every threshold crossed on the
 * way is reported at its own instant (cause kind 'timer', dueAt = time = that instant),
 * in order, exactly as if a timer had fired at each due time. `now` at or before asOf only
 * re-derives (changes then come from a changed config: cause kind 'rescore').
 */
export function evaluate(state: CustomerState, now: number, config: DomainConfig): Transition {
  return advance(state, now, config, false);
}

/** `evaluate`; with `keepFacts`, a `now` at or before asOf re-derives without pruning. */
function advance(state: CustomerState, now: number, config: DomainConfig, keepFacts: boolean): Transition {
  let s = state;
  const changes: SegmentChange[] = [];
  for (let due = nextDueWithin(s, config, now); due !== null; due = nextDueWithin(s, config, now)) {
    const step = settle({ ...s, asOf: due }, config, msToIso(due), timerCause(due));
    s = step.state;
    changes.push(...step.changes);
  }
  const asOf = Math.max(s.asOf, now);
  const last = settle({ ...s, asOf }, config, msToIso(asOf), rescoreCause(asOf), undefined, keepFacts);
  changes.push(...last.changes);
  return { state: last.state, changes };
}

function rescoreCause(at: number): ChangeCause {
  return { kind: 'rescore', topic: null, partition: null, offset: null, eventId: null, dueAt: msToIso(at) };
}

/**
 * Re-derives memberships under a (new) config, e.g. new quantile cuts, without moving
 * time (and without pruning, like a late event). Changes carry cause kind 'rescore' at the
 * state's asOf.
 */
export function rescore(state: CustomerState, config: DomainConfig): Transition {
  return settle(state, config, msToIso(state.asOf), rescoreCause(state.asOf), undefined, true);
}

/**
 * Folds one validated event into the customer's state (null for a customer never seen).
 * Time first advances to the event's time (timer changes on the way, as `evaluate`), then
 * the event is folded and memberships recomputed as of asOf = max(asOf, event time); a late
 * event (at or before asOf) is folded in and memberships recomputed as of the unchanged asOf,
 * without pruning: facts are pruned when time next moves (a later event) or on `evaluate`,
 * so late events arriving together (a backfill) merge as in time order. Changes caused by
 * the event carry the event's time and cause kind 'event'.
 *
 * Idempotent and order-independent: see docs/segmentation.md §8 (and its limits).
 */
export function apply(state: CustomerState | null, event: InputEvent, config: DomainConfig, cause?: CauseInfo): ApplyResult {
  if (state !== null && state.customerId !== event.subject) throw new CustomerMismatchError(state.customerId, event.subject);
  const eventMs = isoToMs(event.time);
  const t = floorSecond(eventMs);
  const base = state ?? emptyState(event.subject, t);
  if (base.erasedAt !== null && t <= base.erasedAt) return { state: base, changes: [], outcome: 'erased' };
  // An event at or before asOf does not move time: nothing is pruned, so the other late facts
  // of its order or case (a backfill delivers them next) still merge as in time order.
  const keepFacts = t <= base.asOf;
  const advanced = advance(base, t, config, keepFacts);
  const folded = fold(advanced.state, event, t, config);
  const eventCause: ChangeCause = {
    kind: 'event',
    topic: cause?.topic ?? null,
    partition: cause?.partition ?? null,
    offset: cause?.offset ?? null,
    eventId: event.id,
    dueAt: null,
  };
  const erasure = event.type === 'customer.erasure.requested';
  const settled = settle(folded.state, config, msToIso(eventMs), eventCause, erasure ? 'erased' : undefined, keepFacts);
  return { state: settled.state, changes: [...advanced.changes, ...settled.changes], outcome: folded.outcome };
}

/** Everything derived about the customer as of the state's asOf (for read APIs and debugging). */
export function describe(state: CustomerState, config: DomainConfig): CustomerView {
  return derive(state, state.asOf, config);
}
