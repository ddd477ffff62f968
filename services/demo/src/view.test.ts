import type { SegmentChangeEvent } from '@crm/contracts';
import { describe, expect, it } from 'vitest';
import { Tally, formatChange, formatTally } from './view.ts';

let seq = 0;
function change(
  subject: string,
  dimension: SegmentChangeEvent['data']['dimension'],
  from: string | null,
  to: string | null,
  kind: 'event' | 'timer' = 'event',
  segment: string | null = null,
): SegmentChangeEvent {
  return {
    specversion: '1.0',
    id: `x${++seq}`,
    source: 'urn:test',
    type: 'crm.segment.changed',
    time: '2025-03-04T17:20:05Z',
    subject,
    data: {
      dimension,
      segment,
      from,
      to,
      reason: kind === 'timer' ? 'recency_days>=90' : 'first_purchase',
      cause:
        kind === 'timer'
          ? { kind, topic: null, partition: null, offset: null, eventId: null, dueAt: '2025-03-04T17:20:05Z' }
          : { kind, topic: 'commerce.orders.v1.demo-abc', partition: 2, offset: '17', eventId: 'e1', dueAt: null },
    },
  };
}

describe('formatChange', () => {
  it('shows simulated time, customer, dimension, from → to, reason and cause', () => {
    expect(formatChange(change('c042', 'stage', 'new', 'repeat'), false).replace(/ +/g, ' ')).toBe(
      '2025-03-04 17:20 c042 stage new → repeat first_purchase event orders[2]@17',
    );
    expect(formatChange(change('c042', 'stage', 'loyal', 'at_risk', 'timer'), false)).toMatch(/loyal → at_risk\s+recency_days>=90\s+timer$/);
    expect(formatChange(change('c7', 'custom', null, 'member', 'event', 'vip'), false)).toMatch(/custom:vip\s+∅ → member/);
    expect(formatChange(change('c7', 'stage', null, 'prospect'), true)).toContain('\x1b[');
  });
});

describe('Tally', () => {
  it('counts current members per value from the chain of changes', () => {
    const t = new Tally();
    t.add(change('a', 'stage', null, 'prospect'));
    t.add(change('b', 'stage', null, 'prospect'));
    t.add(change('a', 'stage', 'prospect', 'new'));
    t.add(change('a', 'stage', 'new', 'at_risk', 'timer'));
    t.add(change('a', 'tier', null, 'bronze'));
    t.add(change('b', 'custom', null, 'member', 'event', 'vip'));
    expect(t.count('stage', 'prospect')).toBe(1);
    expect(t.count('stage', 'new')).toBe(0);
    expect(t.count('stage', 'at_risk')).toBe(1);
    expect(t.changes).toBe(6);
    expect(t.timerChanges).toBe(1);
    // Domain order (prospect before at_risk), empty values left out; custom segments by name.
    expect(t.rows()).toEqual([
      {
        dimension: 'stage',
        values: [
          ['prospect', 1],
          ['at_risk', 1],
        ],
      },
      { dimension: 'tier', values: [['bronze', 1]] },
      { dimension: 'custom', values: [['vip', 1]] },
    ]);
    const lines = formatTally(t, { simNow: Date.UTC(2025, 2, 4), daysPerSecond: 2, eventsProduced: 12345, eventRate: 300, trafficDone: false }, false);
    expect(lines[0]).toBe('tally  sim 2025-03-04 00:00 (2 d/s)  ·  events 12,345 (300/s)  ·  changes 6 (timer 1)');
    expect(lines[1]).toMatch(/^ {2}stage\s+prospect 1 · at_risk 1$/);
  });
});
