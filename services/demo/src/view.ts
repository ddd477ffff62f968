/**
 * What the demo shows, as pure functions of the segment changes: one line per change and a
 * tally of current memberships per dimension (kept from the changes themselves: every
 * customer's chain starts at null in a fresh run, so +1 to `to` and −1 to `from` is exact).
 */
import type { Dimension, SegmentChangeEvent } from '@crm/contracts';
import { EXPECTATION_GAPS, QUADRANTS, RFM_SEGMENTS, SATISFACTION_LEVELS, STAGES, TIERS } from '@crm/domain';

/** Dimensions in display order, with their values in the domain's order. */
const ORDER: ReadonlyArray<readonly [Dimension, readonly string[]]> = [
  ['stage', STAGES],
  ['rfm_segment', RFM_SEGMENTS],
  ['tier', TIERS],
  ['satisfaction', SATISFACTION_LEVELS],
  ['expectation_gap', EXPECTATION_GAPS],
  ['quadrant', QUADRANTS],
  ['custom', []],
];

export interface Status {
  /** Simulated now (epoch ms). */
  simNow: number;
  daysPerSecond: number;
  eventsProduced: number;
  /** Events per wall second, recently. */
  eventRate: number;
  trafficDone: boolean;
}

export class Tally {
  /** dimension → value → members. Custom segments count under `custom` by segment name. */
  private readonly members = new Map<string, Map<string, number>>();
  changes = 0;
  timerChanges = 0;
  readonly changesByDimension = new Map<string, number>();

  add(change: SegmentChangeEvent): void {
    const { dimension, segment, from, to, cause } = change.data;
    this.changes++;
    if (cause.kind === 'timer') this.timerChanges++;
    this.changesByDimension.set(dimension, (this.changesByDimension.get(dimension) ?? 0) + 1);
    const values = this.members.get(dimension) ?? new Map<string, number>();
    this.members.set(dimension, values);
    const key = (v: string) => (dimension === 'custom' ? (segment ?? v) : v);
    if (from !== null) values.set(key(from), (values.get(key(from)) ?? 0) - 1);
    if (to !== null) values.set(key(to), (values.get(key(to)) ?? 0) + 1);
  }

  /** Members of one value of a dimension now. */
  count(dimension: Dimension, value: string): number {
    return this.members.get(dimension)?.get(value) ?? 0;
  }

  /** Per dimension with any member, its non-empty values in the domain's order. */
  rows(): Array<{ dimension: Dimension; values: Array<[string, number]> }> {
    const out: Array<{ dimension: Dimension; values: Array<[string, number]> }> = [];
    for (const [dimension, order] of ORDER) {
      const values = this.members.get(dimension);
      if (values === undefined) continue;
      const rank = (v: string) => {
        const i = order.indexOf(v);
        return i < 0 ? order.length : i;
      };
      const nonEmpty = [...values].filter(([, n]) => n !== 0).sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
      if (nonEmpty.length > 0) out.push({ dimension, values: nonEmpty });
    }
    return out;
  }
}

const ANSI = {
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
  reset: '\x1b[0m',
};
const style = (ansi: boolean, code: string, s: string) => (ansi ? `${code}${s}${ANSI.reset}` : s);

/** `2025-03-04 17:20` (UTC) from an ISO time or epoch ms. */
export function simTime(t: string | number): string {
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** Input topic names without the version and run suffix: `commerce.orders.v1.demo-x` → `orders`. */
function shortTopic(topic: string): string {
  return topic.split('.')[1] ?? topic;
}

/**
 * One change: simulated time, customer, dimension, from → to, reason, cause
 * (`timer`, or `event <topic>[<partition>]@<offset>`).
 */
export function formatChange(change: SegmentChangeEvent, ansi: boolean): string {
  const { dimension, segment, from, to, reason, cause } = change.data;
  const what = dimension === 'custom' ? `custom:${segment ?? '?'}` : dimension;
  const causeText =
    cause.kind === 'timer'
      ? style(ansi, ANSI.yellow, 'timer')
      : cause.kind === 'rescore'
        ? 'rescore'
        : `event ${shortTopic(cause.topic ?? '?')}[${cause.partition ?? '?'}]@${cause.offset ?? '?'}`;
  return [
    style(ansi, ANSI.dim, simTime(change.time)),
    change.subject.padEnd(10),
    style(ansi, ANSI.cyan, what.padEnd(15)),
    `${from ?? '∅'} → ${style(ansi, ANSI.bold, to ?? '∅')}`.padEnd(ansi ? 30 + ANSI.bold.length + ANSI.reset.length : 30),
    reason.padEnd(24),
    causeText,
  ].join('  ');
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

/** The tally: a status line, then one line per dimension. */
export function formatTally(tally: Tally, status: Status, ansi: boolean): string[] {
  const head =
    `tally  sim ${simTime(status.simNow)} (${status.daysPerSecond} d/s)  ·  events ${thousands(status.eventsProduced)}` +
    (status.trafficDone ? ' (traffic done)' : ` (${thousands(status.eventRate)}/s)`) +
    `  ·  changes ${thousands(tally.changes)} (timer ${thousands(tally.timerChanges)})`;
  const lines = [style(ansi, ANSI.bold, head)];
  for (const { dimension, values } of tally.rows()) {
    lines.push(`  ${style(ansi, ANSI.cyan, dimension.padEnd(15))} ${values.map(([v, n]) => `${v} ${thousands(n)}`).join(' · ')}`);
  }
  return lines;
}
