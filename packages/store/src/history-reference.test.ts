/**
 * The faster packing writes the bytes the release before it wrote: its packer (5f98a32) is kept
 * here as the reference, and both pack generated histories and changes.
 */
import { DIMENSIONS, type Dimension, isoUtcMillis } from '@crm/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTORY_CODES, type HistoryEntry, prependHistory } from './history.ts';
import { SUFFIXES, applied, event } from './testing/history-changes.ts';

type Change = Omit<HistoryEntry, 'id'>;

// ------------------------------------------------------------------ the reference packer (5f98a32)

const ref = (() => {
  const { topics: TOPIC_CODES, values: VALUES, reasons: REASONS } = HISTORY_CODES;
  const codes = (list: readonly string[]): ReadonlyMap<string, string> => new Map(list.map((s, i) => [s, i.toString(36)]));
  const DIMENSION_CODE = codes(DIMENSIONS);
  const VALUE_CODE = Object.fromEntries(DIMENSIONS.map((d) => [d, codes(VALUES[d])])) as Record<Dimension, ReadonlyMap<string, string>>;
  const REASON_CODE = codes(REASONS);
  const ESCAPED = /[%,/;|]/g;
  const text = (s: string): string => `'${s.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
  const untext = (f: string): string => f.slice(1).replace(/%(25|2C|2F|3B|7C)/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  function isoMillis(iso: string): number {
    if (iso.length === 24 && iso.charCodeAt(19) === 46) {
      const ms = isoUtcMillis(iso);
      if (!Number.isNaN(ms)) return ms;
    }
    const ms = Date.parse(iso);
    return Number.isNaN(ms) || new Date(ms).toISOString() !== iso ? Number.NaN : ms;
  }
  function time(iso: string): string {
    const ms = isoMillis(iso);
    if (Number.isNaN(ms)) return text(iso);
    return ms % 1000 === 0 ? (ms / 1000).toString(36) : `.${ms.toString(36)}`;
  }
  const offset = (o: string | null): string => (o === null ? '' : /^(0|[1-9][0-9]{0,14})$/.test(o) ? Number(o).toString(36) : text(o));
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const eventId = (id: string | null): string =>
    id === null ? '' : UUID.test(id) ? Buffer.from(id.replaceAll('-', ''), 'hex').toString('base64url') : text(id);
  function ruleReason(c: Change): string | null {
    if (c.dimension === 'custom') return c.segment === null ? null : c.to === null ? `rule_not_met:${c.segment}` : `rule:${c.segment}`;
    return c.to === null ? null : `rule:${c.to}`;
  }
  function trimmed(joined: string): string {
    let n = joined.length;
    while (n > 0 && joined.charCodeAt(n - 1) === 44) n--;
    return joined.slice(0, n);
  }
  interface Header {
    partition: number | null;
    suffix: string;
  }
  const partitionField = (p: number | null): string => (p === null ? '!' : p.toString(36));
  function contractTopic(topic: string): { code: string; suffix: string } | null {
    for (const [i, name] of TOPIC_CODES.entries()) if (topic.startsWith(name)) return { code: i.toString(36), suffix: topic.slice(name.length) };
    return null;
  }
  function headerOf(changes: readonly Change[], suffix: string): Header {
    let partition: number | null | undefined;
    for (const { cause } of changes) {
      if (cause.kind !== 'event') continue;
      if (partition === undefined) partition = cause.partition;
      const contract = cause.topic === null ? null : contractTopic(cause.topic);
      if (contract !== null) return { partition, suffix: contract.suffix };
    }
    return { partition: partition === undefined ? 0 : partition, suffix };
  }
  const packHeader = (h: Header, suffix: string): string =>
    trimmed(`${h.partition === 0 ? '' : partitionField(h.partition)},${h.suffix === suffix ? '' : text(h.suffix)}`);
  function unpackHeader(f: string, suffix: string): Header {
    const [partition = '', written = ''] = f.split(',');
    return {
      partition: partition === '' ? 0 : partition === '!' ? null : Number.parseInt(partition, 36),
      suffix: written === '' ? suffix : untext(written),
    };
  }
  const sameWhen = (a: Change, b: Change): boolean =>
    a.time === b.time &&
    a.cause.kind === b.cause.kind &&
    a.cause.topic === b.cause.topic &&
    a.cause.partition === b.cause.partition &&
    a.cause.offset === b.cause.offset &&
    a.cause.eventId === b.cause.eventId &&
    a.cause.dueAt === b.cause.dueAt;
  function packWhen(c: Change, header: Header): string {
    const { cause } = c;
    const t = time(c.time);
    if (cause.kind !== 'event') {
      const kind = cause.kind === 'timer' ? 't' : 'r';
      return cause.dueAt === c.time ? `${t},${kind}` : `${t},${kind},${cause.dueAt === null ? '!' : time(cause.dueAt)}`;
    }
    let topic = '';
    let suffix = '';
    if (cause.topic !== null) {
      const contract = contractTopic(cause.topic);
      topic = contract?.code ?? text(cause.topic);
      if (contract !== null && contract.suffix !== header.suffix) suffix = text(contract.suffix);
    }
    const partition = cause.partition === header.partition ? '' : partitionField(cause.partition);
    return trimmed(`${t},e,${topic},${offset(cause.offset)},${eventId(cause.eventId)},${partition},${suffix}`);
  }
  function packChange(c: Change): string {
    const known = DIMENSION_CODE.get(c.dimension);
    const values = known === undefined ? undefined : VALUE_CODE[c.dimension as Dimension];
    const from = c.from === null ? '' : values?.get(c.from);
    const to = c.to === null ? '' : values?.get(c.to);
    const reason = c.reason === ruleReason(c) ? '' : (REASON_CODE.get(c.reason) ?? text(c.reason));
    const segment = c.segment === null ? '' : text(c.segment);
    if (known !== undefined && known.length === 1 && from !== undefined && from.length < 2 && to !== undefined && to.length < 2)
      return trimmed(`${known}${from || '-'}${to || '-'},${reason},${segment}`);
    const value = (v: string | null, code: string | undefined): string => (v === null ? '' : (code ?? text(v)));
    return trimmed(`${known ?? text(c.dimension)},${value(c.from, from)},${value(c.to, to)},${reason},${segment}`);
  }
  function packGroups(changes: readonly Change[], header: Header): string {
    let out = '';
    let newer: Change | undefined;
    for (const c of changes) {
      if (newer === undefined || !sameWhen(newer, c)) out += `;${packWhen(c, header)}`;
      out += `/${packChange(c)}`;
      newer = c;
    }
    return out;
  }
  function firstChanges(groups: string, n: number): string {
    let seen = 0;
    let group = 0;
    let inGroup = 0;
    for (let i = 0; i < groups.length; i++) {
      const c = groups.charCodeAt(i);
      if (c === 59) {
        group = i;
        inGroup = 0;
      } else if (c === 47) {
        if (seen === n) return groups.slice(0, inGroup === 0 ? group : i);
        seen++;
        inGroup++;
      }
    }
    return groups;
  }
  return function prependHistory(packed: string | null, changes: readonly Change[], length: number, suffix = ''): string | null {
    const fresh: Change[] = [];
    for (let i = changes.length - 1; i >= 0 && fresh.length < length; i--) fresh.push(changes[i] as Change);
    const stored = packed === null || packed === '' || fresh.length === length ? -1 : packed.indexOf(';');
    if (stored < 0) {
      if (fresh.length === 0) return null;
      const header = headerOf(fresh, suffix);
      return packHeader(header, suffix) + packGroups(fresh, header);
    }
    const header = unpackHeader((packed as string).slice(0, stored), suffix);
    return packHeader(header, suffix) + packGroups(fresh, header) + firstChanges((packed as string).slice(stored), length - fresh.length);
  };
})();

describe('the faster history packing', () => {
  it('writes what the reference wrote, over generated histories and changes under any configured suffix', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SUFFIXES),
        fc.array(applied, { maxLength: 6 }),
        fc.integer({ min: -1, max: 8 }),
        fc.boolean(),
        (configured, batches, length, old) => {
          // Stored histories as either packer wrote them, older ones without the configured suffix
          // (a topic suffix written as text in their header).
          let packed: string | null = null;
          for (const b of batches) {
            const stored: string | null = packed;
            const expected = ref(stored, b, length, configured);
            expect(prependHistory(stored, b, length, configured)).toBe(expected);
            packed = old ? ref(stored, b, length) : expected;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('rewrites an old header as the reference did', () => {
    const suffix = '.bench-tput-mwtjdirp-77918f';
    const fresh = event('12', `commerce.orders.v1${suffix}`);
    for (const old of [`4,'${suffix};t85rzz,t/007`, `4;t85rzz,t/007`, `4,';t85rzz,t/007`, `,'${suffix};t85rzz,t/007`, `!,'.other;t85rzz,t/007/101`]) {
      for (const length of [1, 2, 3]) expect(prependHistory(old, [fresh], length, suffix)).toBe(ref(old, [fresh], length, suffix));
    }
  });
});
