/**
 * The domain's entry points: apply an event, let time pass, find the next instant time
 * alone would change something. Pure: time comes in as arguments, output is a new state and
 * the segment changes it implies.
 */
import { hash } from 'node:crypto';
import type { ChangeCause, Dimension, InputEvent } from '@crm/contracts';
import type { DomainConfig } from './config.ts';
import { CustomerMismatchError } from './errors.ts';
import { type CustomerView, derive, sameMemberships, sameNames, sameTimedFields } from './derive.ts';
import { tickThresholds } from './rules.ts';
import { type CustomerState, emptyState, type FoldOutcome, fold, type Memberships, type OrderRecord, orderNet, prune } from './state.ts';
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

/** The membership field of each dimension but custom (whose values are the names in `custom`). */
export const MEMBERSHIP_FIELD: Readonly<Record<Exclude<Dimension, 'custom'>, keyof Omit<Memberships, 'custom'>>> = {
  rfm_segment: 'rfmSegment',
  stage: 'stage',
  tier: 'tier',
  satisfaction: 'satisfaction',
  expectation_gap: 'expectationGap',
  quadrant: 'quadrant',
};

/** Whether memberships hold `value` of `dimension` (for custom: the segment named `value`). */
export function holdsMembership(m: Memberships, dimension: Dimension, value: string): boolean {
  return dimension === 'custom' ? m.custom.includes(value) : m[MEMBERSHIP_FIELD[dimension]] === value;
}

/** Each dimension but custom with its membership field, in the order changes are reported. */
const DIMENSION_OF = (Object.entries(MEMBERSHIP_FIELD) as [Exclude<Dimension, 'custom'>, keyof Omit<Memberships, 'custom'>][]).map(([dimension, field]) => ({
  field,
  dimension,
}));

/** Deterministic change id: the same move at the same instant always has the same id. */
export function changeId(customerId: string, dimension: Dimension, segment: string | null, from: string | null, to: string | null, time: string): string {
  // One-shot hash: the same digest as createHash('sha256').update(json).digest('hex').
  return hash('sha256', JSON.stringify([customerId, dimension, segment, from, to, time]), 'hex').slice(0, 32);
}

/**
 * When and why the changes a settle finds happen. Most settles change nothing, so the ISO
 * time and the cause are only built for the first change.
 */
interface Occasion {
  /** Epoch ms of the changes' time. */
  readonly at: number;
  /** The changes' cause, given their ISO time (timer and rescore causes carry it as dueAt). */
  readonly cause: (time: string) => ChangeCause;
}

function diff(customerId: string, before: Memberships, after: CustomerView, occasion: Occasion, exitReason?: string): SegmentChange[] {
  const out: SegmentChange[] = [];
  for (const { field, dimension } of DIMENSION_OF) {
    const from = before[field];
    const to = after.memberships[field];
    if (from !== to)
      out.push(change(out, customerId, occasion, dimension, null, from, to, to === null && exitReason !== undefined ? exitReason : after.reasons[field]));
  }
  if (sameNames(before.custom, after.memberships.custom)) return out;
  const was = new Set(before.custom);
  const is = new Set(after.memberships.custom);
  for (const name of [...new Set([...before.custom, ...after.memberships.custom])].sort()) {
    if (was.has(name) && !is.has(name)) out.push(change(out, customerId, occasion, 'custom', name, MEMBER, null, exitReason ?? `rule_not_met:${name}`));
    else if (!was.has(name) && is.has(name)) out.push(change(out, customerId, occasion, 'custom', name, null, MEMBER, `rule:${name}`));
  }
  return out;
}

/** One change of a diff: its time and cause are those of the diff's first change (`found`), built once. */
function change(
  found: readonly SegmentChange[],
  customerId: string,
  occasion: Occasion,
  dimension: Dimension,
  segment: string | null,
  from: string | null,
  to: string | null,
  reason: string,
): SegmentChange {
  const first = found[0];
  const time = first === undefined ? msToIso(occasion.at) : first.time;
  const cause = first === undefined ? occasion.cause(time) : first.cause;
  return { id: changeId(customerId, dimension, segment, from, to, time), customerId, time, dimension, segment, from, to, reason, cause };
}

/** A timer fired at `at`: the changes' time and the cause's dueAt are both that instant. */
function timerAt(at: number): Occasion {
  return { at, cause: (time) => ({ kind: 'timer', topic: null, partition: null, offset: null, eventId: null, dueAt: time }) };
}

/** Memberships re-derived at `at` without time passing a threshold (e.g. under a new config). */
function rescoreAt(at: number): Occasion {
  return { at, cause: (time) => ({ kind: 'rescore', topic: null, partition: null, offset: null, eventId: null, dueAt: time }) };
}

/**
 * derive(s, s.asOf, config) of the state an entry point returned last. States are immutable
 * and derive reads only their facts; the caller usually asks next for that same view (the
 * segmenter calls nextDueAt on the state evaluate returned, and on each customer's state
 * right after the batch's last apply for that customer). One slot, not a
 * WeakMap by state: the map's set and its ephemerons cost more (CPU and garbage collection,
 * measured with scripts/bench-apply.ts) than the derives its extra hits saved.
 */
let lastReturned: { readonly state: CustomerState; readonly config: DomainConfig; readonly view: CustomerView } | null = null;

/** The view of `s` at its asOf if `s` is the state an entry point returned last, under `c`. */
function knownView(s: CustomerState, c: DomainConfig): CustomerView | undefined {
  return lastReturned !== null && lastReturned.state === s && lastReturned.config === c ? lastReturned.view : undefined;
}

function viewOf(s: CustomerState, c: DomainConfig): CustomerView {
  return knownView(s, c) ?? derive(s, s.asOf, c);
}

/** The public part of a settled step, its view remembered for whatever the caller asks next. */
function returned(settled: Settled, c: DomainConfig): Transition {
  lastReturned = { state: settled.state, config: c, view: settled.view };
  return { state: settled.state, changes: settled.changes };
}

interface SettleOptions {
  /** The reason of every exit (an erasure's). */
  readonly exitReason?: string | undefined;
  /** Re-derive without pruning (a late event, a rescore). */
  readonly keepFacts?: boolean;
  /** derive(s, s.asOf, c) when the caller already has it. */
  readonly view?: CustomerView | undefined;
}

/** A transition and the view of its state at its asOf (the next step starts from it). */
interface Settled extends Transition {
  readonly view: CustomerView;
}

/**
 * Recomputes memberships as of the state's asOf (after pruning, unless `keepFacts`) and
 * reports what moved. Pruning never changes a derived value, so skipping it only keeps facts.
 */
function settle(s: CustomerState, c: DomainConfig, occasion: Occasion, options: SettleOptions = {}): Settled {
  const pruned = options.keepFacts === true ? s : prune(s, c);
  // prune returns its input when it drops nothing: same facts, same view.
  const view = pruned === s && options.view !== undefined ? options.view : derive(pruned, pruned.asOf, c);
  const changes = diff(pruned.customerId, s.memberships, view, occasion, options.exitReason);
  return { state: { ...pruned, memberships: view.memberships }, changes, view };
}

/**
 * The earliest candidate instant in (after, upTo] at which some derived value may change, or
 * null: recency thresholds (R cuts, stage, custom), window expiry of each purchase (F, M,
 * tier, stage), the loyal tenure threshold (and custom tenure thresholds), the CSAT
 * average's lapse. Scanning the few candidates again for each next one beats sorting them
 * all: the first or second usually changes something.
 */
function nextCandidate(s: CustomerState, v: CustomerView, c: DomainConfig, after: number, upTo: number): number | null {
  let next = Infinity;
  if (v.lastPurchaseAt !== null) {
    const { recency, tenure } = dayThresholdsOf(c);
    next = earliestAfter(next, after, v.lastPurchaseAt, recency, DAY_MS);
    if (v.firstPurchaseAt !== null) next = earliestAfter(next, after, v.firstPurchaseAt, tenure, DAY_MS);
    next = windowExitAfter(next, after, s.orders, c.orders.windowDays * DAY_MS);
  }
  if (v.csatExpiresAt !== null && v.csatExpiresAt > after && v.csatExpiresAt < next) next = v.csatExpiresAt;
  return next <= upTo && next !== Infinity ? next : null;
}

/** The least of `next` and the instants base + x * unit (x in xs) after `after` (no closure: this runs per candidate). */
function earliestAfter(next: number, after: number, base: number, xs: readonly number[], unit: number): number {
  let least = next;
  // Indexed: for-of over the array allocated its iterator's results.
  for (let i = 0; i < xs.length; i++) {
    const t = base + (xs[i] as number) * unit;
    if (t > after && t < least) least = t;
  }
  return least;
}

/**
 * The least of `next` and the instants after `after` at which a held purchase leaves the
 * window (windowMs after it). Read from the state, not listed by derive: derive runs several
 * times per event and the list was garbage each time. A purchase that leaves after `after`
 * (>= the state's asOf) is one inside the window at asOf.
 */
function windowExitAfter(next: number, after: number, orders: readonly OrderRecord[], windowMs: number): number {
  let least = next;
  for (let i = 0; i < orders.length; i++) {
    const o = orders[i] as OrderRecord;
    if (o.completed === null || orderNet(o) === null) continue;
    const t = o.completed.t + windowMs;
    if (t > after && t < least) least = t;
  }
  return least;
}

/** Day counts after the latest (recency) and the first (tenure) purchase at which some rule can flip. */
interface DayThresholds {
  readonly recency: readonly number[];
  readonly tenure: readonly number[];
}

/** Per config: the thresholds depend on nothing else, and walking the custom rules is not free. */
const dayThresholds = new WeakMap<DomainConfig, DayThresholds>();

function dayThresholdsOf(c: DomainConfig): DayThresholds {
  let known = dayThresholds.get(c);
  if (known === undefined) {
    const recency = new Set<number>([...c.rfm.cuts.r.map((x) => Math.ceil(x)), c.stage.atRiskDays, c.stage.lapsedDays, c.stage.churnedDays]);
    const tenure = new Set<number>([c.stage.loyalMinTenureDays]);
    for (const sg of c.segments) {
      tickThresholds(sg.rule, 'recencyDays', recency);
      tickThresholds(sg.rule, 'tenureDays', tenure);
    }
    known = { recency: [...recency], tenure: [...tenure] };
    dayThresholds.set(c, known);
  }
  return known;
}

/**
 * The next due instant in (s.asOf, upTo] and the view then, or null when time alone changes
 * nothing up to `upTo`. `now` is the view of `s` at its asOf.
 */
function nextDueWithin(s: CustomerState, now: CustomerView, c: DomainConfig, upTo: number): { at: number; view: CustomerView } | null {
  for (let t = nextCandidate(s, now, c, s.asOf, upTo); t !== null; t = nextCandidate(s, now, c, t, upTo)) {
    const then = derive(s, t, c);
    if (!sameTimedFields(then, now)) return { at: t, view: then };
  }
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
  return nextDueWithin(state, viewOf(state, config), config, Infinity)?.at ?? null;
}

/**
 * Lets time pass to `now` (epoch ms) without new events. Every threshold crossed on the
 * way is reported at its own instant (cause kind 'timer', dueAt = time = that instant),
 * in order, exactly as if a timer had fired at each due time. `now` at or before asOf only
 * re-derives (changes then come from a changed config: cause kind 'rescore').
 */
export function evaluate(state: CustomerState, now: number, config: DomainConfig): Transition {
  return returned(advance(state, now, config), config);
}

/**
 * Fires every due time in (state.asOf, now]: the state after the last one (asOf still at or
 * before `now`), its view at its asOf if derived, and the timer changes in order.
 */
function passTime(state: CustomerState, now: number, config: DomainConfig, changes: SegmentChange[]): { s: CustomerState; view: CustomerView | undefined } {
  let s = state;
  // The view of s at its asOf, derived when first needed.
  let view = knownView(s, config);
  while (now > s.asOf) {
    view ??= derive(s, s.asOf, config);
    const due = nextDueWithin(s, view, config, now);
    if (due === null) break;
    const step = settle({ ...s, asOf: due.at }, config, timerAt(due.at), { view: due.view });
    s = step.state;
    view = step.view;
    for (const change of step.changes) changes.push(change);
  }
  return { s, view };
}

/** `evaluate`, with the view of the state it returns. */
function advance(state: CustomerState, now: number, config: DomainConfig): Settled {
  const changes: SegmentChange[] = [];
  const { s, view } = passTime(state, now, config, changes);
  return settleAt(s, view, now, config, false, changes);
}

/**
 * Settles s (its view at its asOf, if known) at max(asOf, now), after passTime: its changes
 * (rescores) follow the timer changes in `changes`, which the result returns.
 */
function settleAt(s: CustomerState, view: CustomerView | undefined, now: number, config: DomainConfig, keepFacts: boolean, changes: SegmentChange[]): Settled {
  const asOf = Math.max(s.asOf, now);
  // Time not moving (a late event, or `now` a due time): the facts, hence the view, are those of s.
  const last = settle({ ...s, asOf }, config, rescoreAt(asOf), { keepFacts, view: asOf === s.asOf ? view : undefined });
  for (const change of last.changes) changes.push(change);
  return { state: last.state, changes, view: last.view };
}

/**
 * `advance`'s state and changes, without its view (apply folds the event in next); with
 * `keepFacts`, a `now` at or before asOf re-derives without pruning. When time moves on
 * past the last due time and the memberships stored are those derived at asOf (the config
 * did not change them), they still hold at `now`: no due time in between means no timed
 * field changed. Then the facts are only pruned, and nothing is derived.
 */
function advanceBeforeEvent(state: CustomerState, now: number, config: DomainConfig, keepFacts: boolean): Transition {
  const changes: SegmentChange[] = [];
  const { s, view } = passTime(state, now, config, changes);
  if (now > s.asOf && view !== undefined && sameMemberships(s.memberships, view.memberships)) return { state: prune({ ...s, asOf: now }, config), changes };
  return settleAt(s, view, now, config, keepFacts, changes);
}

/**
 * Re-derives memberships under a (new) config, e.g. new quantile cuts, without moving
 * time (and without pruning, like a late event). Changes carry cause kind 'rescore' at the
 * state's asOf.
 */
export function rescore(state: CustomerState, config: DomainConfig): Transition {
  return returned(settle(state, config, rescoreAt(state.asOf), { keepFacts: true, view: knownView(state, config) }), config);
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
  const advanced = advanceBeforeEvent(base, t, config, keepFacts);
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
  const occasion: Occasion = { at: eventMs, cause: () => eventCause };
  const settled = returned(settle(folded.state, config, occasion, { exitReason: erasure ? 'erased' : undefined, keepFacts }), config);
  const changes = advanced.changes.length === 0 ? settled.changes : [...advanced.changes, ...settled.changes];
  return { state: settled.state, changes, outcome: folded.outcome };
}

/** Everything derived about the customer as of the state's asOf (for read APIs and debugging). */
export function describe(state: CustomerState, config: DomainConfig): CustomerView {
  return viewOf(state, config);
}
