import { describe, expect, it } from 'vitest';
import { planCoPartitioned } from './assignor.ts';

const topics = new Map([
  ['orders', 4],
  ['interactions', 4],
  ['profiles', 4],
]);

describe('co-partitioned assignment', () => {
  it('gives partition p of every input topic to the same member', () => {
    const plan = planCoPartitioned(['m-b', 'm-a', 'm-c'], topics);
    for (const assignment of plan.values()) {
      expect(assignment['interactions']).toEqual(assignment['orders']);
      expect(assignment['profiles']).toEqual(assignment['orders']);
    }
    const all = [...plan.values()].flatMap((a) => a['orders'] ?? []).sort();
    expect(all).toEqual([0, 1, 2, 3]);
  });

  it('is the same plan whatever order the members arrive in', () => {
    expect(planCoPartitioned(['x', 'y'], topics)).toEqual(planCoPartitioned(['y', 'x'], topics));
  });

  it('leaves extra members idle rather than splitting a partition', () => {
    const plan = planCoPartitioned(['a', 'b', 'c', 'd', 'e'], new Map([['orders', 2]]));
    expect(plan.get('a')).toEqual({ orders: [0] });
    expect(plan.get('b')).toEqual({ orders: [1] });
    expect(plan.get('e')).toEqual({});
  });
});
