/**
 * User-defined segments of the kinds operators write (recency, points, scores, satisfaction,
 * complaints, tenure; all/any/not), all time-monotone: as time passes a customer can only
 * enter or only leave each of them. Used by the property tests and the domain benchmark.
 */
import type { DomainConfigInput } from '../config.ts';

export const SAMPLE_SEGMENTS = [
  {
    name: 'dormant_vip',
    rule: {
      all: [
        { field: 'recencyDays', op: 'gte', value: 45.5 },
        { field: 'points', op: 'gte', value: 300 },
      ],
    },
  },
  {
    name: 'engaged',
    rule: {
      any: [
        { field: 'r', op: 'gte', value: 4 },
        { field: 'frequency', between: [3, 1000] },
      ],
    },
  },
  {
    name: 'unhappy',
    rule: {
      any: [
        { field: 'satisfaction', in: ['very_low', 'low'] },
        { field: 'openComplaints', op: 'gt', value: 0 },
      ],
    },
  },
  { name: 'veteran', rule: { all: [{ field: 'tenureDays', op: 'gt', value: 400 }, { not: { field: 'lifetimeOrders', op: 'lt', value: 2 } }] } },
] satisfies DomainConfigInput['segments'];
