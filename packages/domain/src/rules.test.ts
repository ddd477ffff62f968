import { describe, expect, it } from 'vitest';
import { compileRule, type FieldValues, SEGMENT_FIELDS, type SegmentField, type SegmentRule } from './rules.ts';

/** Every field unknown, then the given ones. */
function values(known: Partial<Record<SegmentField, FieldValues[SegmentField]>>): FieldValues {
  const all = Object.fromEntries(Object.keys(SEGMENT_FIELDS).map((f) => [f, null])) as Record<SegmentField, FieldValues[SegmentField]>;
  return { ...all, ...known };
}

describe('compiled segment rules', () => {
  const frequency = (op: string, value: number): SegmentRule => ({ field: 'frequency', op, value }) as SegmentRule;

  it.each([
    ['eq', 3, true],
    ['eq', 4, false],
    ['ne', 4, true],
    ['ne', 3, false],
    ['gt', 2, true],
    ['gt', 3, false],
    ['gte', 3, true],
    ['gte', 4, false],
    ['lt', 4, true],
    ['lt', 3, false],
    ['lte', 3, true],
    ['lte', 2, false],
  ] as const)('frequency 3 %s %d is %s', (op, value, expected) => {
    expect(compileRule(frequency(op, value))(values({ frequency: 3 }))).toBe(expected);
  });

  it('is false on an unknown field for every comparison, ne included', () => {
    for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte']) expect(compileRule(frequency(op, 3))(values({}))).toBe(false);
    expect(compileRule({ field: 'csatAvg', between: [1, 5] })(values({}))).toBe(false);
    expect(compileRule({ field: 'stage', in: ['new'] })(values({}))).toBe(false);
    expect(compileRule({ not: frequency('ne', 3) })(values({}))).toBe(true);
  });

  it('reads between as inclusive and in as membership', () => {
    const between = compileRule({ field: 'csatAvg', between: [2, 4.5] });
    expect([1.999, 2, 3, 4.5, 4.501].map((csatAvg) => between(values({ csatAvg })))).toEqual([false, true, true, true, false]);
    const within = compileRule({ field: 'stage', in: ['loyal', 'advocate'] });
    expect(['loyal', 'advocate', 'new'].map((stage) => within(values({ stage })))).toEqual([true, true, false]);
    expect(compileRule({ field: 'registered', in: [true] })(values({ registered: true }))).toBe(true);
  });

  it('combines with all, any and not', () => {
    const rule = compileRule({
      all: [frequency('gte', 2), { any: [{ field: 'tier', in: ['gold'] }, { not: { field: 'marketingConsent', op: 'eq', value: false } }] }],
    });
    expect(rule(values({ frequency: 2, tier: 'gold', marketingConsent: false }))).toBe(true);
    expect(rule(values({ frequency: 2, tier: 'silver', marketingConsent: true }))).toBe(true);
    expect(rule(values({ frequency: 2, tier: 'silver', marketingConsent: false }))).toBe(false);
    expect(rule(values({ frequency: 1, tier: 'gold', marketingConsent: true }))).toBe(false);
  });
});
