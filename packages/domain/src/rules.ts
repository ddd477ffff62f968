/**
 * User-defined segments: named conditions over derived customer fields, declared as JSON
 * data. This module owns the field catalogue, the validator (issues carry the path of the
 * bad node) and the evaluator (compiled to a predicate once per config). See docs/segmentation.md §7.
 */
import type { DomainIssue } from './errors.ts';
import { EXPECTATION_GAPS, NPS_CLASSES, QUADRANTS, RFM_SEGMENTS, SATISFACTION_LEVELS, STAGES, TIERS } from './vocabulary.ts';

type FieldSpec =
  | { readonly kind: 'number'; readonly ticksDaily: boolean }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'boolean' };

/**
 * Every field a rule may name. `ticksDaily` fields grow by one every day without any event;
 * nextDueAt derives their crossing instants from the constants the rules compare them with.
 */
export const SEGMENT_FIELDS = {
  recencyDays: { kind: 'number', ticksDaily: true },
  tenureDays: { kind: 'number', ticksDaily: true },
  frequency: { kind: 'number', ticksDaily: false },
  monetaryMinor: { kind: 'number', ticksDaily: false },
  r: { kind: 'number', ticksDaily: false },
  f: { kind: 'number', ticksDaily: false },
  m: { kind: 'number', ticksDaily: false },
  points: { kind: 'number', ticksDaily: false },
  lifetimeOrders: { kind: 'number', ticksDaily: false },
  lifetimeNetMinor: { kind: 'number', ticksDaily: false },
  csatAvg: { kind: 'number', ticksDaily: false },
  openComplaints: { kind: 'number', ticksDaily: false },
  rfmSegment: { kind: 'enum', values: RFM_SEGMENTS },
  stage: { kind: 'enum', values: STAGES },
  tier: { kind: 'enum', values: TIERS },
  npsClass: { kind: 'enum', values: NPS_CLASSES },
  satisfaction: { kind: 'enum', values: SATISFACTION_LEVELS },
  expectationGap: { kind: 'enum', values: EXPECTATION_GAPS },
  quadrant: { kind: 'enum', values: QUADRANTS },
  marketingConsent: { kind: 'boolean' },
  registered: { kind: 'boolean' },
} as const satisfies Record<string, FieldSpec>;

export type SegmentField = keyof typeof SEGMENT_FIELDS;
export type FieldValue = number | string | boolean | null;
/** The values a rule sees: every field of SEGMENT_FIELDS (null = unknown / not applicable). */
export type FieldValues = { readonly [K in SegmentField]: FieldValue };

export const COMPARISON_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];
type Scalar = number | string | boolean;

export type SegmentRule =
  | { readonly all: readonly SegmentRule[] }
  | { readonly any: readonly SegmentRule[] }
  | { readonly not: SegmentRule }
  | { readonly field: SegmentField; readonly op: ComparisonOp; readonly value: Scalar }
  | { readonly field: SegmentField; readonly between: readonly [number, number] }
  | { readonly field: SegmentField; readonly in: readonly Scalar[] };

/** Deepest nesting accepted: rules are small; this stops pathological input early. */
const MAX_RULE_DEPTH = 16;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
}

function checkScalar(spec: FieldSpec, value: unknown, path: string, issues: DomainIssue[]): void {
  switch (spec.kind) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) issues.push({ path, message: 'must be a finite number' });
      return;
    case 'boolean':
      if (typeof value !== 'boolean') issues.push({ path, message: 'must be true or false' });
      return;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) issues.push({ path, message: `must be one of ${spec.values.join(', ')}` });
      return;
  }
}

/**
 * Validates one rule node (recursively). Issues name the bad node, e.g. `rule.all[1].op`.
 * Returns nothing: callers read `issues`.
 */
export function checkRule(node: unknown, path: string, issues: DomainIssue[], depth = 0): void {
  if (depth > MAX_RULE_DEPTH) {
    issues.push({ path, message: `rules nest at most ${MAX_RULE_DEPTH} levels` });
    return;
  }
  if (!isObject(node)) {
    issues.push({ path, message: 'must be an object: { all }, { any }, { not }, { field, op, value }, { field, between } or { field, in }' });
    return;
  }
  const keys = Object.keys(node);
  const only = (allowed: readonly string[]): boolean => {
    const extra = keys.filter((k) => !allowed.includes(k));
    for (const k of extra) issues.push({ path: join(path, k), message: `unexpected key (this node takes ${allowed.join(', ')})` });
    return extra.length === 0;
  };
  for (const combinator of ['all', 'any'] as const) {
    if (combinator in node) {
      if (!only([combinator])) return;
      const children = node[combinator];
      const p = join(path, combinator);
      if (!Array.isArray(children) || children.length === 0) {
        issues.push({ path: p, message: 'must be a non-empty array of rules' });
        return;
      }
      children.forEach((c, i) => {
        checkRule(c, join(p, i), issues, depth + 1);
      });
      return;
    }
  }
  if ('not' in node) {
    if (only(['not'])) checkRule(node['not'], join(path, 'not'), issues, depth + 1);
    return;
  }
  if (!('field' in node)) {
    issues.push({ path, message: 'must have one of the keys all, any, not or field' });
    return;
  }
  const field = node['field'];
  if (typeof field !== 'string' || !Object.hasOwn(SEGMENT_FIELDS, field)) {
    issues.push({ path: join(path, 'field'), message: `unknown field ${JSON.stringify(field)}; known: ${Object.keys(SEGMENT_FIELDS).join(', ')}` });
    return;
  }
  const spec: FieldSpec = SEGMENT_FIELDS[field as SegmentField];
  if ('op' in node) {
    if (!only(['field', 'op', 'value'])) return;
    const op = node['op'];
    if (typeof op !== 'string' || !(COMPARISON_OPS as readonly string[]).includes(op)) {
      issues.push({ path: join(path, 'op'), message: `must be one of ${COMPARISON_OPS.join(', ')}` });
      return;
    }
    if (op !== 'eq' && op !== 'ne' && spec.kind !== 'number') {
      issues.push({ path: join(path, 'op'), message: `${op} needs a numeric field; ${field} is ${spec.kind}` });
      return;
    }
    checkScalar(spec, node['value'], join(path, 'value'), issues);
    return;
  }
  if ('between' in node) {
    if (!only(['field', 'between'])) return;
    const b = node['between'];
    const p = join(path, 'between');
    if (spec.kind !== 'number') issues.push({ path: p, message: `between needs a numeric field; ${field} is ${spec.kind}` });
    else if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => typeof x === 'number' && Number.isFinite(x)))
      issues.push({ path: p, message: 'must be [lo, hi], two finite numbers' });
    else if ((b[0] as number) > (b[1] as number)) issues.push({ path: p, message: 'lo must not exceed hi' });
    return;
  }
  if ('in' in node) {
    if (!only(['field', 'in'])) return;
    const list = node['in'];
    const p = join(path, 'in');
    if (!Array.isArray(list) || list.length === 0) issues.push({ path: p, message: 'must be a non-empty array' });
    else
      list.forEach((v, i) => {
        checkScalar(spec, v, join(p, i), issues);
      });
    return;
  }
  issues.push({ path, message: 'a field condition needs op + value, between or in' });
}

function compare(op: ComparisonOp, actual: FieldValue, expected: Scalar): boolean {
  if (actual === null) return false;
  switch (op) {
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'gt':
      return actual > expected;
    case 'gte':
      return actual >= expected;
    case 'lt':
      return actual < expected;
    case 'lte':
      return actual <= expected;
  }
}

/** A rule as a function of the field values. */
export type RulePredicate = (v: FieldValues) => boolean;

/**
 * Compiles a validated rule into its predicate (walking the rule once, not on every
 * evaluation). A condition on a null field (unknown, e.g. csatAvg without ratings) is false,
 * `ne` included; wrap in `not` to select the unknowns.
 */
export function compileRule(rule: SegmentRule): RulePredicate {
  if ('all' in rule) {
    const parts = rule.all.map(compileRule);
    return (v) => parts.every((p) => p(v));
  }
  if ('any' in rule) {
    const parts = rule.any.map(compileRule);
    return (v) => parts.some((p) => p(v));
  }
  if ('not' in rule) {
    const inner = compileRule(rule.not);
    return (v) => !inner(v);
  }
  const field = rule.field;
  if ('op' in rule) {
    const { op, value } = rule;
    return (v) => compare(op, v[field], value);
  }
  if ('between' in rule) {
    const [lo, hi] = rule.between;
    return (v) => {
      const actual = v[field];
      return typeof actual === 'number' && actual >= lo && actual <= hi;
    };
  }
  const values = rule.in;
  return (v) => {
    const actual = v[field];
    return actual !== null && values.includes(actual);
  };
}

/**
 * The day counts at which a daily-ticking field can change a rule's outcome: for every
 * constant c compared with the field, the day it first reaches ceil(c) and the day it first
 * exceeds c (floor(c) + 1). Covers eq/ne/gt/gte/lt/lte/between/in exactly.
 */
export function tickThresholds(rule: SegmentRule, field: SegmentField, out: Set<number>): void {
  if ('all' in rule) for (const r of rule.all) tickThresholds(r, field, out);
  else if ('any' in rule) for (const r of rule.any) tickThresholds(r, field, out);
  else if ('not' in rule) tickThresholds(rule.not, field, out);
  else if (rule.field === field) {
    const constants = 'op' in rule ? [rule.value] : 'between' in rule ? [...rule.between] : rule.in;
    for (const c of constants) {
      if (typeof c !== 'number') continue;
      out.add(Math.max(0, Math.ceil(c)));
      out.add(Math.max(0, Math.floor(c) + 1));
    }
  }
}
