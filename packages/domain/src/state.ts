/**
 * The per-customer state: the bounded set of facts the rules need, and how events fold
 * into it. Every fold is a merge in a semilattice (min, max or a total order on the stored
 * tuple), so the facts depend on the set of events, not on their order or repetition.
 * See docs/segmentation.md §8 for the dedupe rules and their limits.
 */
import { hash } from 'node:crypto';
import type { InputEvent, InteractionEvent, OrderEvent, ProfileEvent } from '@crm/contracts';
import type { DomainConfig } from './config.ts';
import { DAY_MS } from './time.ts';
import type { ExpectationGap, Quadrant, RfmSegment, SatisfactionLevel, Stage, Tier } from './vocabulary.ts';

/** Width of hashed keys in base-36 digits: 36^7 ~ 2^36, so two ids of one customer collide with p ~ 1e-9. */
export const KEY_DIGITS = 7;
/** Tie-break hashes of event ids live in [0, 36^2): two base-36 digits. */
export const TIE_MODULUS = 36 * 36;

/** A 'completed' fact: the winner is the smallest (t, h, amountMinor). */
export interface Completed {
  readonly t: number;
  readonly h: number;
  readonly amountMinor: number;
}
/** The largest cumulative refund of the order (tie: earliest t). */
export interface Refund {
  readonly t: number;
  readonly amountMinor: number;
}
export interface OrderRecord {
  /** Hash of the order id (KEY_DIGITS base-36 digits). */
  readonly key: string;
  readonly completed: Completed | null;
  readonly refund: Refund | null;
  /** Earliest cancellation time; any cancellation voids the order. */
  readonly cancelledAt: number | null;
}

export interface InteractionRecord {
  /** Hash of the interaction id. */
  readonly key: string;
  readonly t: number;
  readonly h: number;
  readonly csat: number | null;
  readonly complaint: boolean;
  readonly resolved: boolean;
  /** Hash of the case id; null when the interaction is its own case (caseId null or = interactionId). */
  readonly caseKey: string | null;
}

/** The latest value by (t, h, value). */
export interface Latest<V> {
  readonly t: number;
  readonly h: number;
  readonly value: V;
}

/** Lifetime summary of orders that left the retention horizon (their records are dropped). */
export interface PastOrders {
  /** Non-cancelled completed orders. */
  readonly count: number;
  readonly netMinor: number;
  readonly first: number;
  readonly last: number;
  /**
   * The second-latest of the summarized purchase times (equal to `last` when two share it):
   * the stage rules' previous purchase. Null for a single order, and for records written
   * before it was kept (those read as they did then: previous unknown).
   */
  readonly previous: number | null;
}

export interface Memberships {
  readonly rfmSegment: RfmSegment | null;
  readonly stage: Stage | null;
  readonly tier: Tier | null;
  readonly satisfaction: SatisfactionLevel | null;
  readonly expectationGap: ExpectationGap | null;
  readonly quadrant: Quadrant | null;
  /** Names of the user-defined segments the customer is in, sorted. */
  readonly custom: readonly string[];
}

export interface CustomerState {
  readonly customerId: string;
  /** Epoch ms: the max of event times applied and of `now`s evaluated; memberships hold as of this instant. */
  readonly asOf: number;
  /** Earliest registration. */
  readonly registeredAt: number | null;
  readonly consent: Latest<boolean> | null;
  readonly nps: Latest<number> | null;
  /** Latest event time of any fact (null: nothing known about the customer). */
  readonly seenAt: number | null;
  /** Tombstone: events at or before this instant are ignored. */
  readonly erasedAt: number | null;
  readonly past: PastOrders | null;
  /** Sorted by key. */
  readonly orders: readonly OrderRecord[];
  /** Sorted by key. */
  readonly interactions: readonly InteractionRecord[];
  readonly memberships: Memberships;
}

export const NO_MEMBERSHIPS: Memberships = {
  rfmSegment: null,
  stage: null,
  tier: null,
  satisfaction: null,
  expectationGap: null,
  quadrant: null,
  custom: [],
};

export function emptyState(customerId: string, asOf: number): CustomerState {
  return {
    customerId,
    asOf,
    registeredAt: null,
    consent: null,
    nps: null,
    seenAt: null,
    erasedAt: null,
    past: null,
    orders: [],
    interactions: [],
    memberships: NO_MEMBERSHIPS,
  };
}

// ------------------------------------------------------------------ hashing

/**
 * The first `bytes` bytes (at most 6, so the value is exact) of SHA-256 of the UTF-8 string,
 * as an unsigned big-endian integer. One-shot, hex output: keys are hashed on every event,
 * and a Hash object or a Buffer result costs several times the hash itself.
 */
function digestPrefix(s: string, bytes: number): number {
  return Number.parseInt(hash('sha256', s, 'hex').slice(0, 2 * bytes), 16);
}

/** KEY_DIGITS base-36 digits of SHA-256(id): short, stable keys for order, interaction and case ids. */
export function keyOf(id: string): string {
  const n = digestPrefix(id, 6) % 36 ** KEY_DIGITS;
  return n.toString(36).padStart(KEY_DIGITS, '0');
}

/** Tie-break of an event id in [0, TIE_MODULUS). */
export function tieOf(eventId: string): number {
  return digestPrefix(eventId, 4) % TIE_MODULUS;
}

// ------------------------------------------------------------------ retention

/** How long order records are kept after their earliest fact: the window plus the lateness allowance. */
export function orderRetentionMs(c: DomainConfig): number {
  return (c.orders.windowDays + c.retention.lateArrivalDays) * DAY_MS;
}

/**
 * How long interaction records are kept after their time: the CSAT average counts ratings
 * up to one window before the latest rating, and lapses one window after it (2 windows),
 * plus the lateness allowance.
 */
export function interactionRetentionMs(c: DomainConfig): number {
  return (2 * c.satisfaction.csatWindowDays + c.retention.lateArrivalDays) * DAY_MS;
}

export function orderAnchor(o: OrderRecord): number {
  return Math.min(o.completed?.t ?? Infinity, o.refund?.t ?? Infinity, o.cancelledAt ?? Infinity);
}

/** Non-cancelled completed orders count as purchases; net = amount - cumulative refund, floor 0. */
export function orderNet(o: OrderRecord): number | null {
  if (o.completed === null || o.cancelledAt !== null) return null;
  return Math.max(0, o.completed.amountMinor - (o.refund?.amountMinor ?? 0));
}

/** Groups interactions by case; a case is an open complaint when it has a complaint and its latest interaction is not resolved. */
export function openComplaintCases(interactions: readonly InteractionRecord[]): Set<string> {
  const cases = new Map<string, { complaint: boolean; latest: InteractionRecord }>();
  for (const i of interactions) {
    const k = i.caseKey ?? i.key;
    const c = cases.get(k);
    if (c === undefined) cases.set(k, { complaint: i.complaint, latest: i });
    else cases.set(k, { complaint: c.complaint || i.complaint, latest: cmpInteraction(i, c.latest) > 0 ? i : c.latest });
  }
  const open = new Set<string>();
  for (const [k, c] of cases) if (c.complaint && !c.latest.resolved) open.add(k);
  return open;
}

/** openComplaintCases(interactions).size, without grouping when there is no complaint at all (the common case). */
export function openComplaintCount(interactions: readonly InteractionRecord[]): number {
  return interactions.some((i) => i.complaint) ? openComplaintCases(interactions).size : 0;
}

/** Adds one purchase to the summary; `last` and `previous` are the top two of the folded times (order-independent). */
function addPast(past: PastOrders | null, t: number, net: number): PastOrders {
  if (past === null) return { count: 1, netMinor: net, first: t, last: t, previous: null };
  const last = Math.max(past.last, t);
  // The other of (past.last, t) competes with the old second-latest for the new second place.
  const runnerUp = Math.min(t, past.last);
  let previous: number | null;
  if (past.previous !== null) previous = Math.max(past.previous, runnerUp);
  // A record from before `previous` was kept (count >= 2, second-latest unknown): known only when t leads.
  else if (past.count >= 2) previous = t >= past.last ? past.last : null;
  else previous = runnerUp;
  return { count: past.count + 1, netMinor: past.netMinor + net, first: Math.min(past.first, t), last, previous };
}

/**
 * Drops facts no rule can look at again as of `asOf`: orders beyond the retention horizon
 * fold into the lifetime summary; interactions beyond theirs go, unless their case is an
 * open complaint. Never changes any derived value.
 */
export function prune(s: CustomerState, c: DomainConfig): CustomerState {
  const orderCut = s.asOf - orderRetentionMs(c);
  const interactionCut = s.asOf - interactionRetentionMs(c);
  let past = s.past;
  // The orders kept, once one is dropped (prune runs twice per event and usually drops nothing).
  let orders: OrderRecord[] | null = null;
  for (let n = 0; n < s.orders.length; n++) {
    const o = s.orders[n] as OrderRecord;
    if (orderAnchor(o) > orderCut) {
      orders?.push(o);
      continue;
    }
    orders ??= s.orders.slice(0, n);
    const net = orderNet(o);
    if (net !== null && o.completed !== null) past = addPast(past, o.completed.t, net);
  }
  let interactions = s.interactions;
  let stale = false;
  for (const i of interactions) stale ||= i.t <= interactionCut;
  if (stale) {
    const open = openComplaintCases(interactions);
    interactions = interactions.filter((i) => i.t > interactionCut || open.has(i.caseKey ?? i.key));
  }
  if (orders === null && interactions === s.interactions) return s;
  return { ...s, past, orders: orders ?? s.orders, interactions };
}

// ------------------------------------------------------------------ merges

function cmpCompleted(a: Completed, b: Completed): number {
  return a.t - b.t || a.h - b.h || a.amountMinor - b.amountMinor;
}
function cmpRefund(a: Refund, b: Refund): number {
  // "greater" = the winner: larger cumulative amount, then earlier time.
  return a.amountMinor - b.amountMinor || b.t - a.t;
}
function interactionCode(i: InteractionRecord): number {
  return (i.csat ?? 0) * 4 + (i.complaint ? 2 : 0) + (i.resolved ? 1 : 0);
}
/** Total order on interaction records of one id; the smallest wins a conflict. */
export function cmpInteraction(a: InteractionRecord, b: InteractionRecord): number {
  if (a.t !== b.t) return a.t - b.t;
  if (a.h !== b.h) return a.h - b.h;
  const d = interactionCode(a) - interactionCode(b);
  if (d !== 0) return d;
  const ak = a.caseKey ?? '';
  const bk = b.caseKey ?? '';
  return ak < bk ? -1 : ak > bk ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
function laterOf<V extends number | boolean>(a: Latest<V> | null, b: Latest<V>): Latest<V> {
  if (a === null) return b;
  const d = a.t - b.t || a.h - b.h || Number(a.value) - Number(b.value);
  return d >= 0 ? a : b;
}
const minOrNull = (a: number | null, b: number): number => (a === null ? b : Math.min(a, b));
const maxOrNull = (a: number | null, b: number): number => (a === null ? b : Math.max(a, b));

function upsertSorted<T extends { readonly key: string }>(list: readonly T[], key: string, update: (old: T | undefined) => T): T[] {
  const out = list.slice();
  let lo = 0;
  let hi = out.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((out[mid] as T).key < key) lo = mid + 1;
    else hi = mid;
  }
  const found = out[lo];
  if (found !== undefined && found.key === key) out[lo] = update(found);
  else out.splice(lo, 0, update(undefined));
  return out;
}

/**
 * What folding did with the event: applied, or late: beyond the retention horizon with no
 * record of its order or case held (folded in all the same; see docs/segmentation.md §8).
 */
export type FoldOutcome = 'applied' | 'late';

function foldOrder(s: CustomerState, e: OrderEvent, t: number, c: DomainConfig): { state: CustomerState; outcome: FoldOutcome } {
  const key = keyOf(e.data.orderId);
  const h = tieOf(e.id);
  const amount = e.data.amountMinor;
  // Beyond the horizon with no record held: in time order the record would exist (first
  // delivery) or would already be summarized (a duplicate, a refund or cancellation of a
  // summarized order). The record is kept either way; apply() does not prune on a late
  // event, so the order's other late facts still merge exactly, and the next prune folds it
  // into the lifetime summary (double-counting a duplicate of a summarized order; a lone
  // refund or cancellation has no effect).
  const exists = s.orders.some((o) => o.key === key);
  const outcome: FoldOutcome = !exists && t <= s.asOf - orderRetentionMs(c) ? 'late' : 'applied';
  const orders = upsertSorted(s.orders, key, (old) => {
    const o: OrderRecord = old ?? { key, completed: null, refund: null, cancelledAt: null };
    switch (e.type) {
      case 'commerce.order.completed': {
        const next: Completed = { t, h, amountMinor: amount };
        return { ...o, completed: o.completed === null || cmpCompleted(next, o.completed) < 0 ? next : o.completed };
      }
      case 'commerce.order.refunded': {
        const next: Refund = { t, amountMinor: amount };
        return { ...o, refund: o.refund === null || cmpRefund(next, o.refund) > 0 ? next : o.refund };
      }
      case 'commerce.order.cancelled':
        return { ...o, cancelledAt: minOrNull(o.cancelledAt, t) };
    }
  });
  return { state: { ...s, orders, seenAt: maxOrNull(s.seenAt, t) }, outcome };
}

function foldInteraction(s: CustomerState, e: InteractionEvent, t: number, c: DomainConfig): { state: CustomerState; outcome: FoldOutcome } {
  const d = e.data;
  const h = tieOf(e.id);
  // NPS is a plain "latest wins" merge: exact at any lateness.
  const nps = d.nps === null ? s.nps : laterOf(s.nps, { t, h, value: d.nps });
  const key = keyOf(d.interactionId);
  const caseKey = d.caseId === null || d.caseId === d.interactionId ? null : keyOf(d.caseId);
  const groupKey = caseKey ?? key;
  const known = s.interactions.some((i) => i.key === key || (i.caseKey ?? i.key) === groupKey);
  // A late interaction is inserted like any other (see docs/segmentation.md §8): apply() does
  // not prune on a late event, so the case's other late interactions join it, and the next
  // prune keeps or drops the whole case by the same rule as in time order.
  const outcome: FoldOutcome = !known && t <= s.asOf - interactionRetentionMs(c) ? 'late' : 'applied';
  const rec: InteractionRecord = {
    key,
    t,
    h,
    csat: d.csat,
    complaint: d.reason === 'complaint',
    resolved: d.resolution === 'resolved',
    caseKey,
  };
  const interactions = upsertSorted(s.interactions, key, (old) => (old === undefined || cmpInteraction(rec, old) < 0 ? rec : old));
  return { state: { ...s, nps, interactions, seenAt: maxOrNull(s.seenAt, t) }, outcome };
}

function foldProfile(s: CustomerState, e: ProfileEvent, t: number): CustomerState {
  switch (e.type) {
    case 'customer.registered':
      return { ...s, registeredAt: minOrNull(s.registeredAt, t), seenAt: maxOrNull(s.seenAt, t) };
    case 'customer.consent.changed':
      if (e.data.marketingConsent === null) return { ...s, seenAt: maxOrNull(s.seenAt, t) };
      return { ...s, consent: laterOf(s.consent, { t, h: tieOf(e.id), value: e.data.marketingConsent }), seenAt: maxOrNull(s.seenAt, t) };
    case 'customer.erasure.requested':
      return erase(s, t);
  }
}

/**
 * Erasure at `t`: forgets every fact recorded at or before `t` (the lifetime summary as a
 * whole when it reaches back that far) and keeps the tombstone.
 */
export function erase(s: CustomerState, t: number): CustomerState {
  const keep = (x: number | null): number | null => (x !== null && x > t ? x : null);
  const orders: OrderRecord[] = [];
  for (const o of s.orders) {
    const completed = o.completed !== null && o.completed.t > t ? o.completed : null;
    const refund = o.refund !== null && o.refund.t > t ? o.refund : null;
    const cancelledAt = keep(o.cancelledAt);
    if (completed !== null || refund !== null || cancelledAt !== null) orders.push({ key: o.key, completed, refund, cancelledAt });
  }
  return {
    ...s,
    registeredAt: keep(s.registeredAt),
    consent: s.consent !== null && s.consent.t > t ? s.consent : null,
    nps: s.nps !== null && s.nps.t > t ? s.nps : null,
    seenAt: keep(s.seenAt),
    erasedAt: maxOrNull(s.erasedAt, t),
    past: s.past !== null && s.past.first > t ? s.past : null,
    orders,
    interactions: s.interactions.filter((i) => i.t > t),
  };
}

const isInteraction = (e: InputEvent): e is InteractionEvent => e.type === 'service.interaction.recorded';
const isProfile = (e: InputEvent): e is ProfileEvent =>
  e.type === 'customer.registered' || e.type === 'customer.consent.changed' || e.type === 'customer.erasure.requested';

export function fold(s: CustomerState, e: InputEvent, t: number, c: DomainConfig): { state: CustomerState; outcome: FoldOutcome } {
  if (isInteraction(e)) return foldInteraction(s, e, t, c);
  if (isProfile(e)) return { state: foldProfile(s, e, t), outcome: 'applied' };
  return foldOrder(s, e as OrderEvent, t, c);
}
