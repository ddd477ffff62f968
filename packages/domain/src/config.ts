/**
 * DomainConfig: every threshold of every rule, as a zod schema with documented defaults.
 * docs/segmentation.md gives the reason for each default. `parseDomainConfig` fills
 * defaults, checks cross-field invariants and reports the path of the bad node.
 */
import { z } from 'zod';
import { ConfigError, type DomainIssue, formatPath } from './errors.ts';
import { checkRule, type SegmentRule } from './rules.ts';
import { RFM_SEGMENTS, type RfmSegment } from './vocabulary.ts';

const days = z.number().int().min(1).max(36_500);
const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const score = z.number().int().min(1).max(5);
const scoreRange = z.tuple([score, score]).refine(([lo, hi]) => lo <= hi, { message: 'lo must not exceed hi' });
/** Four non-decreasing cut points: score = 1 + (number of cuts <= value); for R, 5 - that. */
const cuts = z
  .array(z.number().min(0).finite())
  .length(4)
  .refine((c) => c.every((x, i) => i === 0 || (c[i - 1] as number) <= x), { message: 'cuts must be non-decreasing' });

export const RfmCutsSchema = z.object({
  /** Recency days: r = 5 - #(cuts <= recencyDays). */
  r: cuts,
  /** Frequency (orders in window): f = 1 + #(cuts <= frequency). */
  f: cuts,
  /** Net spend in window, minor units: m = 1 + #(cuts <= monetaryMinor). */
  m: cuts,
});
export type RfmCuts = z.infer<typeof RfmCutsSchema>;

/** One row of the named-segment table: every given range must hold (inclusive); first match wins. */
export const RfmSegmentRuleSchema = z
  .object({
    segment: z.enum(RFM_SEGMENTS),
    r: scoreRange.optional(),
    f: scoreRange.optional(),
    m: scoreRange.optional(),
    /** fm = round-half-up((f + m) / 2): the combined frequency-monetary score. */
    fm: scoreRange.optional(),
  })
  .strict();
export type RfmSegmentRule = z.infer<typeof RfmSegmentRuleSchema>;

const seg = (segment: RfmSegment, r: [number, number], fm: [number, number]): RfmSegmentRule => ({ segment, r, fm });

/** The default table over (r, fm): a partition of the 5x5 grid into order-convex regions. */
export const DEFAULT_RFM_SEGMENT_RULES: readonly RfmSegmentRule[] = [
  seg('champions', [4, 5], [4, 5]),
  seg('potential_loyalist', [4, 5], [2, 3]),
  seg('new_customers', [5, 5], [1, 1]),
  seg('promising', [4, 4], [1, 1]),
  seg('loyal_customers', [3, 3], [3, 5]),
  seg('need_attention', [3, 3], [2, 2]),
  seg('about_to_sleep', [3, 3], [1, 1]),
  seg('about_to_sleep', [2, 2], [1, 2]),
  seg('at_risk', [2, 2], [3, 5]),
  seg('cant_lose_them', [1, 1], [4, 5]),
  seg('hibernating', [1, 1], [2, 3]),
  seg('lost', [1, 1], [1, 1]),
];

export const SEGMENT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const CustomSegmentSchema = z.object({
  name: z.string().regex(SEGMENT_NAME, 'must be 1-64 letters, digits, _ or -'),
  /** Validated by checkRule (paths like segments[2].rule.all[1].op). */
  rule: z.unknown(),
});

export const DomainConfigSchema = z
  .object({
    orders: z
      .object({
        /** Rolling window of frequency, monetary and tier spend: an order counts while asOf < t + windowDays. */
        windowDays: days.default(365),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        /**
         * How late (in event time behind the state's asOf) an event may arrive and still be
         * deduplicated exactly. Facts are kept this long beyond the window that needs them.
         */
        lateArrivalDays: z.number().int().min(0).max(36_500).default(30),
      })
      .strict()
      .prefault({}),
    rfm: z
      .object({
        cuts: RfmCutsSchema.default({ r: [30, 60, 90, 180], f: [2, 3, 5, 10], m: [5_000, 20_000, 50_000, 100_000] }),
        segments: z
          .array(RfmSegmentRuleSchema)
          .min(1)
          .default(() => [...DEFAULT_RFM_SEGMENT_RULES]),
      })
      .strict()
      .prefault({}),
    stage: z
      .object({
        atRiskDays: days.default(90),
        lapsedDays: days.default(180),
        churnedDays: days.default(365),
        /** A purchase after at least this many days without one makes the customer 'reactivated'. */
        reactivationGapDays: days.default(365),
        loyalMinFrequency: z.number().int().min(1).default(5),
        loyalMinTenureDays: z.number().int().min(0).max(36_500).default(180),
        /** Advocate: loyal and (NPS promoter or CSAT average >= this) and no open complaint. */
        advocateMinCsat: z.number().min(1).max(5).default(4.5),
      })
      .strict()
      .prefault({}),
    loyalty: z
      .object({
        /** Minor units of lifetime net spend per loyalty point (100 = one point per currency unit). */
        minorPerPoint: z.number().int().min(1).default(100),
        /** Minimum net spend in the window (minor units) for each tier. */
        tiers: z
          .object({ bronze: minor.min(1), silver: minor, gold: minor, platinum: minor })
          .strict()
          .default({ bronze: 10_000, silver: 50_000, gold: 150_000, platinum: 500_000 }),
      })
      .strict()
      .prefault({}),
    satisfaction: z
      .object({
        /** CSAT average: ratings within this many days up to the latest rating; lapses this long after it. */
        csatWindowDays: days.default(180),
        /** Level from the CSAT average: < veryLowBelow very_low, < lowBelow low, < highFrom neutral, < veryHighFrom high, else very_high. */
        veryLowBelow: z.number().min(1).max(5).default(2),
        lowBelow: z.number().min(1).max(5).default(3),
        highFrom: z.number().min(1).max(5).default(4),
        veryHighFrom: z.number().min(1).max(5).default(4.5),
      })
      .strict()
      .prefault({}),
    segments: z.array(CustomSegmentSchema).max(256).default([]),
  })
  .strict();

/** Parsed, defaulted, validated config. `segments[].rule` is a checked SegmentRule. */
export type DomainConfig = Omit<z.infer<typeof DomainConfigSchema>, 'segments'> & {
  readonly segments: readonly { readonly name: string; readonly rule: SegmentRule }[];
};
/** What callers may pass: any subset; missing keys take their defaults. */
export type DomainConfigInput = z.input<typeof DomainConfigSchema>;

function invariants(c: z.infer<typeof DomainConfigSchema>): DomainIssue[] {
  const issues: DomainIssue[] = [];
  const s = c.stage;
  if (!(s.atRiskDays < s.lapsedDays)) issues.push({ path: 'stage.lapsedDays', message: 'must be greater than stage.atRiskDays' });
  if (!(s.lapsedDays < s.churnedDays)) issues.push({ path: 'stage.churnedDays', message: 'must be greater than stage.lapsedDays' });
  if (s.loyalMinTenureDays + s.atRiskDays > c.orders.windowDays)
    issues.push({
      path: 'stage.loyalMinTenureDays',
      message: 'loyalMinTenureDays + atRiskDays must not exceed orders.windowDays (else time alone could move a customer repeat -> loyal -> repeat)',
    });
  const t = c.loyalty.tiers;
  if (!(t.bronze < t.silver && t.silver < t.gold && t.gold < t.platinum))
    issues.push({ path: 'loyalty.tiers', message: 'must increase strictly: bronze < silver < gold < platinum' });
  const q = c.satisfaction;
  if (!(q.veryLowBelow <= q.lowBelow && q.lowBelow <= q.highFrom && q.highFrom <= q.veryHighFrom))
    issues.push({ path: 'satisfaction', message: 'must satisfy veryLowBelow <= lowBelow <= highFrom <= veryHighFrom' });
  const flap = findNonMonotoneSegment(c.rfm.segments);
  if (flap !== null) issues.push({ path: 'rfm.segments', message: flap });
  const seen = new Set<string>();
  c.segments.forEach((sg, i) => {
    if (seen.has(sg.name)) issues.push({ path: `segments[${i}].name`, message: `duplicate segment name ${sg.name}` });
    seen.add(sg.name);
    checkRule(sg.rule, `segments[${i}].rule`, issues);
  });
  return issues;
}

/** fm = round-half-up of the mean of f and m. */
export function fmScore(f: number, m: number): number {
  return Math.floor((f + m + 1) / 2);
}

/** First matching row's segment, or null when no row matches. */
export function matchRfmSegment(rules: readonly RfmSegmentRule[], r: number, f: number, m: number): { segment: RfmSegment; row: number } | null {
  const fm = fmScore(f, m);
  const within = (v: number, range: readonly [number, number] | undefined): boolean => range === undefined || (v >= range[0] && v <= range[1]);
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as RfmSegmentRule;
    if (within(r, rule.r) && within(f, rule.f) && within(m, rule.m) && within(fm, rule.fm)) return { segment: rule.segment, row: i };
  }
  return null;
}

/** The index of the (r, f, m) cell, scores 1 to 5, in a table of the 125 cells. */
export const rfmCell = (r: number, f: number, m: number): number => (r - 1) * 25 + (f - 1) * 5 + (m - 1);

/** matchRfmSegment's answer for each (r, f, m) cell, at rfmCell(r, f, m). */
export function rfmSegmentCells(rules: readonly RfmSegmentRule[]): (RfmSegment | null)[] {
  const cells: (RfmSegment | null)[] = new Array(125);
  for (let r = 1; r <= 5; r++)
    for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) cells[rfmCell(r, f, m)] = matchRfmSegment(rules, r, f, m)?.segment ?? null;
  return cells;
}

/**
 * Time only lowers r, f and m. A table can make a segment flap (A -> B -> A without new
 * events) only if some segment's cells are not order-convex on the 5x5x5 grid: a cell q
 * outside A with a cell of A above it and one below it. Returns a description or null.
 */
function findNonMonotoneSegment(rules: readonly RfmSegmentRule[]): string | null {
  const cell = rfmSegmentCells(rules);
  const names = new Set(cell);
  for (const name of names) {
    const above: boolean[] = new Array(125).fill(false);
    const below: boolean[] = new Array(125).fill(false);
    for (let r = 5; r >= 1; r--)
      for (let f = 5; f >= 1; f--)
        for (let m = 5; m >= 1; m--) {
          const i = rfmCell(r, f, m);
          above[i] =
            cell[i] === name ||
            (r < 5 && !!above[rfmCell(r + 1, f, m)]) ||
            (f < 5 && !!above[rfmCell(r, f + 1, m)]) ||
            (m < 5 && !!above[rfmCell(r, f, m + 1)]);
        }
    for (let r = 1; r <= 5; r++)
      for (let f = 1; f <= 5; f++)
        for (let m = 1; m <= 5; m++) {
          const i = rfmCell(r, f, m);
          below[i] =
            cell[i] === name ||
            (r > 1 && !!below[rfmCell(r - 1, f, m)]) ||
            (f > 1 && !!below[rfmCell(r, f - 1, m)]) ||
            (m > 1 && !!below[rfmCell(r, f, m - 1)]);
          if (cell[i] !== name && above[i] && below[i])
            return `segment ${name ?? '(none)'} is not order-convex at r=${r} f=${f} m=${m} (cell is ${cell[i] ?? '(none)'}): time alone could move a customer out of it and back`;
        }
  }
  return null;
}

/**
 * Parses and validates a DomainConfig. Throws ConfigError whose `issues[].path` points at
 * the bad node (e.g. `segments[2].rule.all[1].op`, `stage.churnedDays`).
 */
export function parseDomainConfig(input: unknown): DomainConfig {
  const parsed = DomainConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  const issues = invariants(parsed.data);
  if (issues.length > 0) throw new ConfigError(issues);
  return parsed.data as DomainConfig;
}

/** Every default (docs/segmentation.md explains each). */
export const defaultDomainConfig: DomainConfig = parseDomainConfig({});

/** `config` with other RFM score cuts (quantile scoring: the cuts in force). */
export function withRfmCuts(config: DomainConfig, cuts: RfmCuts): DomainConfig {
  return { ...config, rfm: { ...config.rfm, cuts } };
}
