/**
 * Derivation: every dimension as a pure function of the state's facts, an instant and the
 * config. Rules and their reasons are documented in docs/segmentation.md §2-§7.
 */
import { type DomainConfig, matchRfmSegment } from './config.ts';
import { compileRule, type FieldValues, type RulePredicate } from './rules.ts';
import { type CustomerState, type Memberships, openComplaintCount, orderNet } from './state.ts';
import { DAY_MS, daysBetween } from './time.ts';
import {
  type ExpectationGap,
  type NpsClass,
  type Quadrant,
  RFM_SEGMENTS,
  type RfmSegment,
  SATISFACTION_LEVELS,
  type SatisfactionLevel,
  type Stage,
  type Tier,
} from './vocabulary.ts';

/** Everything derived about a customer at one instant. */
export interface CustomerView {
  readonly asOf: number;
  readonly lastPurchaseAt: number | null;
  readonly firstPurchaseAt: number | null;
  /** Purchase before the latest one (null when fewer than two). */
  readonly previousPurchaseAt: number | null;
  readonly recencyDays: number | null;
  readonly tenureDays: number | null;
  readonly frequency: number;
  readonly monetaryMinor: number;
  readonly r: number | null;
  readonly f: number | null;
  readonly m: number | null;
  readonly lifetimeOrders: number;
  readonly lifetimeNetMinor: number;
  readonly points: number;
  /** Times of the purchases inside the window (for nextDueAt). */
  readonly windowPurchaseTimes: readonly number[];
  readonly csatAvg: number | null;
  /** Instant the CSAT average lapses (latest rating + window), or null. */
  readonly csatExpiresAt: number | null;
  readonly npsClass: NpsClass | null;
  readonly openComplaints: number;
  readonly marketingConsent: boolean | null;
  readonly registered: boolean;
  readonly memberships: Memberships;
  /** Which rule decided each dimension. */
  readonly reasons: Readonly<Record<keyof Omit<Memberships, 'custom'>, string>>;
}

export function npsClassOf(score: number): NpsClass {
  return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
}

/** Score from four non-decreasing cuts: 1 + number of cuts <= value. */
function ascendingScore(cuts: readonly number[], value: number): number {
  let score = 1;
  for (const cut of cuts) if (cut <= value) score++;
  return score;
}

/** What the stage rules read of a view. */
type StageInputs = Pick<
  CustomerView,
  'recencyDays' | 'lastPurchaseAt' | 'previousPurchaseAt' | 'tenureDays' | 'frequency' | 'lifetimeOrders' | 'openComplaints'
>;

function stageOf(v: StageInputs, s: CustomerState, c: DomainConfig, highSat: boolean): [Stage | null, string] {
  const st = c.stage;
  if (s.seenAt === null) return [null, 'no_data'];
  if (v.recencyDays === null || v.lastPurchaseAt === null) return ['prospect', 'no_purchase'];
  const rd = v.recencyDays;
  if (rd >= st.churnedDays) return ['churned', `recency_days>=${st.churnedDays}`];
  if (rd >= st.lapsedDays) return ['lapsed', `recency_days>=${st.lapsedDays}`];
  if (v.lifetimeOrders >= 2 && rd >= st.atRiskDays) return ['at_risk', `recency_days>=${st.atRiskDays}`];
  if (v.previousPurchaseAt !== null && daysBetween(v.previousPurchaseAt, v.lastPurchaseAt) >= st.reactivationGapDays)
    return ['reactivated', `gap_days>=${st.reactivationGapDays}`];
  if (v.frequency >= st.loyalMinFrequency && (v.tenureDays ?? 0) >= st.loyalMinTenureDays) {
    const loyalReason = `frequency>=${st.loyalMinFrequency},tenure_days>=${st.loyalMinTenureDays}`;
    if (highSat && v.openComplaints === 0) return ['advocate', `${loyalReason},high_satisfaction`];
    return ['loyal', loyalReason];
  }
  if (v.lifetimeOrders >= 2) return ['repeat', 'lifetime_orders>=2'];
  return ['new', 'lifetime_orders=1'];
}

function tierOf(v: { lifetimeOrders: number; monetaryMinor: number }, c: DomainConfig): [Tier | null, string] {
  if (v.lifetimeOrders === 0) return [null, 'no_purchase'];
  const t = c.loyalty.tiers;
  const m = v.monetaryMinor;
  if (m >= t.platinum) return ['platinum', `window_spend>=${t.platinum}`];
  if (m >= t.gold) return ['gold', `window_spend>=${t.gold}`];
  if (m >= t.silver) return ['silver', `window_spend>=${t.silver}`];
  if (m >= t.bronze) return ['bronze', `window_spend>=${t.bronze}`];
  return ['none', `window_spend<${t.bronze}`];
}

function satisfactionOf(csatAvg: number | null, nps: NpsClass | null, open: number, c: DomainConfig): [SatisfactionLevel | null, string] {
  const q = c.satisfaction;
  let level: SatisfactionLevel;
  let reason: string;
  if (csatAvg !== null) {
    if (csatAvg < q.veryLowBelow) [level, reason] = ['very_low', `csat_avg<${q.veryLowBelow}`];
    else if (csatAvg < q.lowBelow) [level, reason] = ['low', `csat_avg<${q.lowBelow}`];
    else if (csatAvg < q.highFrom) [level, reason] = ['neutral', `csat_avg<${q.highFrom}`];
    else if (csatAvg < q.veryHighFrom) [level, reason] = ['high', `csat_avg>=${q.highFrom}`];
    else [level, reason] = ['very_high', `csat_avg>=${q.veryHighFrom}`];
  } else if (nps !== null) {
    [level, reason] = [nps === 'detractor' ? 'low' : nps === 'passive' ? 'neutral' : 'high', `nps:${nps}`];
  } else if (open > 0) {
    [level, reason] = ['neutral', 'no_rating'];
  } else return [null, 'no_signal'];
  if (open > 0) {
    const i = Math.max(0, SATISFACTION_LEVELS.indexOf(level) - 1);
    level = SATISFACTION_LEVELS[i] as SatisfactionLevel;
    reason = `${reason},open_complaint`;
  }
  return [level, reason];
}

function gapOf(level: SatisfactionLevel | null, nps: NpsClass | null, open: number): [ExpectationGap | null, string] {
  if (level === null) return [null, 'no_signal'];
  if (open > 0) return ['unmet', 'open_complaint'];
  if (nps === 'detractor') return ['unmet', 'nps:detractor'];
  if (level === 'very_low' || level === 'low') return ['unmet', `satisfaction:${level}`];
  if (level === 'very_high') return ['exceeded', 'satisfaction:very_high'];
  return ['met', `satisfaction:${level}`];
}

function quadrantOf(stage: Stage | null, level: SatisfactionLevel | null, open: number): [Quadrant | null, string] {
  if (level === null) return [null, 'no_signal'];
  const high = stage === 'repeat' || stage === 'loyal' || stage === 'advocate';
  const why = `loyalty:${high ? 'high' : 'low'},satisfaction:${level}`;
  if (high) {
    if (level === 'very_high') return ['apostle', why];
    if (level === 'high' || level === 'neutral') return ['loyalist', why];
    return ['hostage', why];
  }
  if (level === 'very_high' || level === 'high') return ['mercenary', why];
  if (level === 'very_low' && open > 0) return ['terrorist', `${why},open_complaint`];
  return ['defector', why];
}

/** A config's custom segments with their rules compiled, in config order. */
const compiledSegments = new WeakMap<DomainConfig, readonly { readonly name: string; readonly test: RulePredicate }[]>();

function customSegmentsOf(c: DomainConfig): readonly { readonly name: string; readonly test: RulePredicate }[] {
  let segments = compiledSegments.get(c);
  if (segments === undefined) {
    segments = c.segments.map((sg) => ({ name: sg.name, test: compileRule(sg.rule) }));
    compiledSegments.set(c, segments);
  }
  return segments;
}

/** The reason of each named RFM segment, built once. */
const RFM_RULE_REASONS = Object.fromEntries(RFM_SEGMENTS.map((segment) => [segment, `rule:${segment}`])) as Readonly<Record<RfmSegment, string>>;

/** Derives every field and membership of `s` as of `asOf` (>= every fact time). */
export function derive(s: CustomerState, asOf: number, c: DomainConfig): CustomerView {
  const windowMs = c.orders.windowDays * DAY_MS;
  let lifetimeOrders = s.past?.count ?? 0;
  let lifetimeNetMinor = s.past?.netMinor ?? 0;
  let first = s.past?.first ?? null;
  let frequency = 0;
  let monetaryMinor = 0;
  const windowPurchaseTimes: number[] = [];
  // The latest and second-latest purchase times over the summary's top two and the held
  // purchases (no sort needed); the earliest comes from the summary and the held ones.
  let latest = s.past?.last ?? -Infinity;
  let secondLatest = s.past?.previous ?? -Infinity;
  let earliest = Infinity;
  for (const o of s.orders) {
    const net = orderNet(o);
    if (net === null || o.completed === null) continue;
    const t = o.completed.t;
    lifetimeOrders++;
    lifetimeNetMinor += net;
    if (t > latest) {
      secondLatest = latest;
      latest = t;
    } else if (t > secondLatest) secondLatest = t;
    if (t < earliest) earliest = t;
    if (asOf < t + windowMs) {
      frequency++;
      monetaryMinor += net;
      windowPurchaseTimes.push(t);
    }
  }
  if (earliest !== Infinity) first = Math.min(first ?? Infinity, earliest);
  const last = latest === -Infinity ? null : latest;
  const previous = secondLatest === -Infinity ? null : secondLatest;
  const recencyDays = last === null ? null : daysBetween(last, asOf);
  const tenureDays = first === null ? null : daysBetween(first, asOf);
  const cuts = c.rfm.cuts;
  const bought = recencyDays !== null;
  const r = bought ? 6 - ascendingScore(cuts.r, recencyDays) : null;
  const f = bought ? ascendingScore(cuts.f, frequency) : null;
  const m = bought ? ascendingScore(cuts.m, monetaryMinor) : null;

  // Satisfaction: CSAT over the window up to the latest rating; lapses a window after it.
  const csatWindowMs = c.satisfaction.csatWindowDays * DAY_MS;
  let latestCsat = -Infinity;
  for (const i of s.interactions) if (i.csat !== null && i.t > latestCsat) latestCsat = i.t;
  let csatAvg: number | null = null;
  let csatExpiresAt: number | null = null;
  if (latestCsat !== -Infinity && asOf < latestCsat + csatWindowMs) {
    let sum = 0;
    let n = 0;
    for (const i of s.interactions)
      if (i.csat !== null && i.t > latestCsat - csatWindowMs) {
        sum += i.csat;
        n++;
      }
    csatAvg = Math.round((sum / n) * 1000) / 1000;
    csatExpiresAt = latestCsat + csatWindowMs;
  }
  const npsClass = s.nps === null ? null : npsClassOf(s.nps.value);
  const openComplaints = openComplaintCount(s.interactions);

  const points = Math.floor(lifetimeNetMinor / c.loyalty.minorPerPoint);
  const marketingConsent = s.consent?.value ?? null;
  const registered = s.registeredAt !== null;
  const rfm: { segment: RfmSegment; row: number } | null = r !== null && f !== null && m !== null ? matchRfmSegment(c.rfm.segments, r, f, m) : null;
  const highSat = npsClass === 'promoter' || (csatAvg !== null && csatAvg >= c.stage.advocateMinCsat);
  const stageInputs = { recencyDays, lastPurchaseAt: last, previousPurchaseAt: previous, tenureDays, frequency, lifetimeOrders, openComplaints };
  const [stage, stageReason] = stageOf(stageInputs, s, c, highSat);
  const [tier, tierReason] = tierOf({ lifetimeOrders, monetaryMinor }, c);
  const [satisfaction, satReason] = satisfactionOf(csatAvg, npsClass, openComplaints, c);
  const [expectationGap, gapReason] = gapOf(satisfaction, npsClass, openComplaints);
  const [quadrant, quadrantReason] = quadrantOf(stage, satisfaction, openComplaints);

  const fields: FieldValues = {
    recencyDays,
    tenureDays,
    frequency: bought ? frequency : null,
    monetaryMinor: bought ? monetaryMinor : null,
    r,
    f,
    m,
    points,
    lifetimeOrders,
    lifetimeNetMinor,
    csatAvg,
    openComplaints,
    rfmSegment: rfm?.segment ?? null,
    stage,
    tier,
    npsClass,
    satisfaction,
    expectationGap,
    quadrant,
    marketingConsent,
    registered,
  };
  const custom: string[] = [];
  if (s.seenAt !== null) for (const sg of customSegmentsOf(c)) if (sg.test(fields)) custom.push(sg.name);
  if (custom.length > 1) custom.sort();
  // One literal (no spread of a partial view): derive runs several times per event.
  return {
    asOf,
    lastPurchaseAt: last,
    firstPurchaseAt: first,
    previousPurchaseAt: previous,
    recencyDays,
    tenureDays,
    frequency,
    monetaryMinor,
    r,
    f,
    m,
    lifetimeOrders,
    lifetimeNetMinor,
    points,
    windowPurchaseTimes,
    csatAvg,
    csatExpiresAt,
    npsClass,
    openComplaints,
    marketingConsent,
    registered,
    memberships: { rfmSegment: rfm?.segment ?? null, stage, tier, satisfaction, expectationGap, quadrant, custom },
    reasons: {
      rfmSegment: rfm === null ? 'no_purchase' : RFM_RULE_REASONS[rfm.segment],
      stage: stageReason,
      tier: tierReason,
      satisfaction: satReason,
      expectationGap: gapReason,
      quadrant: quadrantReason,
    },
  };
}

/**
 * Whether two views agree on the fields rules and timers care about: scores, frequency,
 * monetary, CSAT average and memberships (recency and tenure tick daily and matter only
 * through thresholds).
 */
export function sameTimedFields(a: CustomerView, b: CustomerView): boolean {
  return (
    a.r === b.r &&
    a.f === b.f &&
    a.m === b.m &&
    a.frequency === b.frequency &&
    a.monetaryMinor === b.monetaryMinor &&
    a.csatAvg === b.csatAvg &&
    sameMemberships(a.memberships, b.memberships)
  );
}

function sameMemberships(a: Memberships, b: Memberships): boolean {
  return (
    a.rfmSegment === b.rfmSegment &&
    a.stage === b.stage &&
    a.tier === b.tier &&
    a.satisfaction === b.satisfaction &&
    a.expectationGap === b.expectationGap &&
    a.quadrant === b.quadrant &&
    sameNames(a.custom, b.custom)
  );
}

/** Element-wise equality of two sorted name lists. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
