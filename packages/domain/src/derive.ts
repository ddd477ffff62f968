/**
 * Derivation: every dimension as a pure function of the state's facts, an instant and the
 * config. Rules and their reasons are documented in docs/segmentation.md §2-§7.
 */
import { type DomainConfig, rfmCell, rfmSegmentCells } from './config.ts';
import { compileRule, type FieldValues, type RulePredicate } from './rules.ts';
import { type CustomerState, type Memberships, openComplaintCount, orderNet } from './state.ts';
import { DAY_MS, daysBetween } from './time.ts';
import {
  type ExpectationGap,
  NPS_CLASSES,
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

function stageOf(v: StageInputs, s: CustomerState, c: DomainConfig, why: Reasons, highSat: boolean): [Stage | null, string] {
  const st = c.stage;
  if (s.seenAt === null) return [null, 'no_data'];
  if (v.recencyDays === null || v.lastPurchaseAt === null) return ['prospect', 'no_purchase'];
  const rd = v.recencyDays;
  if (rd >= st.churnedDays) return ['churned', why.churned];
  if (rd >= st.lapsedDays) return ['lapsed', why.lapsed];
  if (v.lifetimeOrders >= 2 && rd >= st.atRiskDays) return ['at_risk', why.atRisk];
  if (v.previousPurchaseAt !== null && daysBetween(v.previousPurchaseAt, v.lastPurchaseAt) >= st.reactivationGapDays) return ['reactivated', why.reactivated];
  if (v.frequency >= st.loyalMinFrequency && (v.tenureDays ?? 0) >= st.loyalMinTenureDays) {
    if (highSat && v.openComplaints === 0) return ['advocate', why.advocate];
    return ['loyal', why.loyal];
  }
  if (v.lifetimeOrders >= 2) return ['repeat', 'lifetime_orders>=2'];
  return ['new', 'lifetime_orders=1'];
}

function tierOf(lifetimeOrders: number, monetaryMinor: number, c: DomainConfig, why: Reasons): [Tier | null, string] {
  if (lifetimeOrders === 0) return [null, 'no_purchase'];
  const t = c.loyalty.tiers;
  const m = monetaryMinor;
  if (m >= t.platinum) return ['platinum', why.platinum];
  if (m >= t.gold) return ['gold', why.gold];
  if (m >= t.silver) return ['silver', why.silver];
  if (m >= t.bronze) return ['bronze', why.bronze];
  return ['none', why.none];
}

function satisfactionOf(csatAvg: number | null, nps: NpsClass | null, open: number, c: DomainConfig, why: Reasons): [SatisfactionLevel | null, string] {
  const q = c.satisfaction;
  let level: SatisfactionLevel;
  let reason: string;
  if (csatAvg !== null) {
    if (csatAvg < q.veryLowBelow) [level, reason] = ['very_low', why.csatVeryLow];
    else if (csatAvg < q.lowBelow) [level, reason] = ['low', why.csatLow];
    else if (csatAvg < q.highFrom) [level, reason] = ['neutral', why.csatNeutral];
    else if (csatAvg < q.veryHighFrom) [level, reason] = ['high', why.csatHigh];
    else [level, reason] = ['very_high', why.csatVeryHigh];
  } else if (nps !== null) {
    [level, reason] = [nps === 'detractor' ? 'low' : nps === 'passive' ? 'neutral' : 'high', NPS_REASONS[nps]];
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
  if (level === 'very_low' || level === 'low') return ['unmet', SATISFACTION_REASONS[level]];
  if (level === 'very_high') return ['exceeded', 'satisfaction:very_high'];
  return ['met', SATISFACTION_REASONS[level]];
}

function quadrantOf(stage: Stage | null, level: SatisfactionLevel | null, open: number): [Quadrant | null, string] {
  if (level === null) return [null, 'no_signal'];
  const high = stage === 'repeat' || stage === 'loyal' || stage === 'advocate';
  const why = (high ? HIGH_LOYALTY_REASONS : LOW_LOYALTY_REASONS)[level];
  if (high) {
    if (level === 'very_high') return ['apostle', why];
    if (level === 'high' || level === 'neutral') return ['loyalist', why];
    return ['hostage', why];
  }
  if (level === 'very_high' || level === 'high') return ['mercenary', why];
  if (level === 'very_low' && open > 0) return ['terrorist', `${why},open_complaint`];
  return ['defector', why];
}

/** The reasons that quote a config's thresholds, formatted once per config (derive runs several times per event). */
interface Reasons {
  readonly churned: string;
  readonly lapsed: string;
  readonly atRisk: string;
  readonly reactivated: string;
  readonly loyal: string;
  readonly advocate: string;
  readonly platinum: string;
  readonly gold: string;
  readonly silver: string;
  readonly bronze: string;
  readonly none: string;
  readonly csatVeryLow: string;
  readonly csatLow: string;
  readonly csatNeutral: string;
  readonly csatHigh: string;
  readonly csatVeryHigh: string;
}

/** What derive reads of a config beyond its numbers, prepared once per config. */
interface Prepared {
  /** The custom segments with their rules compiled, in config order. */
  readonly segments: readonly { readonly name: string; readonly test: RulePredicate }[];
  /** The named RFM segment of each (r, f, m) cell, at rfmCell(r, f, m): matchRfmSegment's answer, looked up. */
  readonly rfmCells: readonly (RfmSegment | null)[];
  readonly reasons: Reasons;
}

function prepare(c: DomainConfig): Prepared {
  const { stage: st, loyalty, satisfaction: q } = c;
  const loyal = `frequency>=${st.loyalMinFrequency},tenure_days>=${st.loyalMinTenureDays}`;
  return {
    segments: c.segments.map((sg) => ({ name: sg.name, test: compileRule(sg.rule) })),
    rfmCells: rfmSegmentCells(c.rfm.segments),
    reasons: {
      churned: `recency_days>=${st.churnedDays}`,
      lapsed: `recency_days>=${st.lapsedDays}`,
      atRisk: `recency_days>=${st.atRiskDays}`,
      reactivated: `gap_days>=${st.reactivationGapDays}`,
      loyal,
      advocate: `${loyal},high_satisfaction`,
      platinum: `window_spend>=${loyalty.tiers.platinum}`,
      gold: `window_spend>=${loyalty.tiers.gold}`,
      silver: `window_spend>=${loyalty.tiers.silver}`,
      bronze: `window_spend>=${loyalty.tiers.bronze}`,
      none: `window_spend<${loyalty.tiers.bronze}`,
      csatVeryLow: `csat_avg<${q.veryLowBelow}`,
      csatLow: `csat_avg<${q.lowBelow}`,
      csatNeutral: `csat_avg<${q.highFrom}`,
      csatHigh: `csat_avg>=${q.highFrom}`,
      csatVeryHigh: `csat_avg>=${q.veryHighFrom}`,
    },
  };
}

const preparedByConfig = new WeakMap<DomainConfig, Prepared>();
/** The config prepared last: one service runs under one config at a time, so this slot nearly always hits. */
let lastPrepared: { readonly config: DomainConfig; readonly prepared: Prepared } | null = null;

function preparedOf(c: DomainConfig): Prepared {
  if (lastPrepared?.config === c) return lastPrepared.prepared;
  let prepared = preparedByConfig.get(c);
  if (prepared === undefined) {
    prepared = prepare(c);
    preparedByConfig.set(c, prepared);
  }
  lastPrepared = { config: c, prepared };
  return prepared;
}

/** Reasons that name a vocabulary value, built once. */
const NPS_REASONS = Object.fromEntries(NPS_CLASSES.map((n) => [n, `nps:${n}`])) as Readonly<Record<NpsClass, string>>;
const SATISFACTION_REASONS = Object.fromEntries(SATISFACTION_LEVELS.map((l) => [l, `satisfaction:${l}`])) as Readonly<Record<SatisfactionLevel, string>>;
const quadrantReasons = (loyalty: string): Readonly<Record<SatisfactionLevel, string>> =>
  Object.fromEntries(SATISFACTION_LEVELS.map((l) => [l, `loyalty:${loyalty},satisfaction:${l}`])) as Readonly<Record<SatisfactionLevel, string>>;
const HIGH_LOYALTY_REASONS = quadrantReasons('high');
const LOW_LOYALTY_REASONS = quadrantReasons('low');

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
  const prepared = preparedOf(c);
  const why = prepared.reasons;
  const rfmSegment = r !== null && f !== null && m !== null ? (prepared.rfmCells[rfmCell(r, f, m)] ?? null) : null;
  const highSat = npsClass === 'promoter' || (csatAvg !== null && csatAvg >= c.stage.advocateMinCsat);
  const stageInputs = { recencyDays, lastPurchaseAt: last, previousPurchaseAt: previous, tenureDays, frequency, lifetimeOrders, openComplaints };
  // Each rule's [value, reason] read by index: `const [value, reason] =` runs the iterator
  // protocol, whose garbage was a third of what derive allocated.
  const stageDecided = stageOf(stageInputs, s, c, why, highSat);
  const stage = stageDecided[0];
  const stageReason = stageDecided[1];
  const tierDecided = tierOf(lifetimeOrders, monetaryMinor, c, why);
  const tier = tierDecided[0];
  const tierReason = tierDecided[1];
  const satisfactionDecided = satisfactionOf(csatAvg, npsClass, openComplaints, c, why);
  const satisfaction = satisfactionDecided[0];
  const satReason = satisfactionDecided[1];
  const expectationGapDecided = gapOf(satisfaction, npsClass, openComplaints);
  const expectationGap = expectationGapDecided[0];
  const gapReason = expectationGapDecided[1];
  const quadrantDecided = quadrantOf(stage, satisfaction, openComplaints);
  const quadrant = quadrantDecided[0];
  const quadrantReason = quadrantDecided[1];

  const custom: string[] = [];
  // The rules' inputs, only for a customer with facts under a config with custom segments.
  if (s.seenAt !== null && prepared.segments.length > 0) {
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
      rfmSegment,
      stage,
      tier,
      npsClass,
      satisfaction,
      expectationGap,
      quadrant,
      marketingConsent,
      registered,
    };
    for (const sg of prepared.segments) if (sg.test(fields)) custom.push(sg.name);
  }
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
    csatAvg,
    csatExpiresAt,
    npsClass,
    openComplaints,
    marketingConsent,
    registered,
    memberships: { rfmSegment, stage, tier, satisfaction, expectationGap, quadrant, custom },
    reasons: {
      rfmSegment: rfmSegment === null ? 'no_purchase' : RFM_RULE_REASONS[rfmSegment],
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

/** Whether two memberships agree on every dimension. */
export function sameMemberships(a: Memberships, b: Memberships): boolean {
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
