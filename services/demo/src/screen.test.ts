import type { SegmentChangeEvent } from '@crm/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Screen } from './screen.ts';

const status = () => ({ simNow: Date.UTC(2025, 0, 1), daysPerSecond: 2, eventsProduced: 10, eventRate: 5, trafficDone: false });
const change = (i: number): SegmentChangeEvent => ({
  specversion: '1.0',
  id: `x${i}`,
  source: 'urn:test',
  type: 'crm.segment.changed',
  time: '2025-01-01T00:00:00Z',
  subject: `c${i}`,
  data: {
    dimension: 'stage',
    segment: null,
    from: null,
    to: 'prospect',
    reason: 'no_purchase',
    cause: { kind: 'event', topic: 'customer.profiles.v1', partition: 0, offset: String(i), eventId: null, dueAt: null },
  },
});

function sink(tty?: { rows: number; columns: number }) {
  const out = { text: '', write: (s: string) => (out.text += s), ...(tty ? { isTTY: true, ...tty } : {}) };
  return out;
}

afterEach(() => vi.useRealTimers());

describe('Screen', () => {
  it('plain: prints changes up to the per-second budget, counts the rest, prints the tally', () => {
    vi.useFakeTimers();
    const out = sink();
    const screen = new Screen(out, { ansi: false, maxLinesPerSecond: 3, tallyIntervalMs: 1000, status });
    screen.start();
    for (let i = 0; i < 5; i++) screen.change(change(i));
    expect(out.text.split('\n').filter((l) => l.includes('prospect'))).toHaveLength(3);
    vi.advanceTimersByTime(1000);
    expect(out.text).toContain('… 2 more change(s) not shown');
    expect(out.text).toMatch(/^tally .*changes 5 \(timer 0\)\n {2}stage\s+prospect 5$/m);
    expect(out.text).not.toContain('\x1b');
    screen.stop();
  });

  it('ANSI: confines scrolling above a pinned tally and restores the terminal at stop', () => {
    const out = sink({ rows: 30, columns: 100 });
    const screen = new Screen(out, { ansi: true, maxLinesPerSecond: 0, tallyIntervalMs: 1000, status });
    screen.start();
    expect(out.text).toContain('\x1b[1;21r'); // rows 1..21 scroll, 9 rows of tally below
    screen.change(change(1));
    expect(out.text).toContain('\x1b[22;1H'); // the footer's first row
    screen.stop();
    expect(out.text.endsWith('\x1b[r\x1b[30;1H\n\x1b[?25h')).toBe(true);
  });

  it('ANSI on a tiny terminal falls back to plain lines', () => {
    const out = sink({ rows: 8, columns: 80 });
    const screen = new Screen(out, { ansi: true, maxLinesPerSecond: 0, tallyIntervalMs: 1000, status });
    screen.start();
    screen.change(change(1));
    screen.stop();
    expect(out.text).not.toContain('\x1b[1;');
    expect(out.text).toMatch(/tally/);
  });
});
