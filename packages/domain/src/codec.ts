/**
 * Compact codec of CustomerState for Redis (512-byte per-customer budget; a typical customer
 * encodes in about 300 bytes). A versioned, delimited text format of base-36 numbers; fact
 * times are stored as whole seconds before asOf. docs/segmentation.md §9 gives the grammar.
 *
 *   1|asOf|memberships|profile|past|orders|interactions|customerId
 */
import { z } from 'zod';
import { StateDecodeError, formatPath } from './errors.ts';
import { SEGMENT_NAME } from './config.ts';
import { type CustomerState, type InteractionRecord, KEY_DIGITS, type Latest, type OrderRecord, type PastOrders, TIE_MODULUS } from './state.ts';
import { SECOND_MS } from './time.ts';
import { EXPECTATION_GAPS, QUADRANTS, RFM_SEGMENTS, SATISFACTION_LEVELS, STAGES, TIERS } from './vocabulary.ts';

const VERSION = '1';
const VOCABS = [RFM_SEGMENTS, STAGES, TIERS, SATISFACTION_LEVELS, EXPECTATION_GAPS, QUADRANTS] as const;
const MEMBERSHIP_FIELDS = ['rfmSegment', 'stage', 'tier', 'satisfaction', 'expectationGap', 'quadrant'] as const;

// ------------------------------------------------------------------ encode

const b36 = (n: number): string => n.toString(36);

/** Encodes a state; `decodeState(encodeState(s))` deep-equals `s`. */
export function encodeState(s: CustomerState): string {
  const asOfSec = Math.floor(s.asOf / SECOND_MS);
  const rel = (t: number | null): string => (t === null ? '' : b36(asOfSec - t / SECOND_MS));
  const trim = (fields: string[]): string => {
    let n = fields.length;
    while (n > 0 && fields[n - 1] === '') n--;
    return fields.slice(0, n).join(',');
  };
  const m = s.memberships;
  let members = MEMBERSHIP_FIELDS.map((f, i) => {
    const v = m[f];
    return v === null ? '-' : b36((VOCABS[i] as readonly string[]).indexOf(v));
  }).join('');
  if (m.custom.length > 0) members += `:${m.custom.join(',')}`;
  const latest = <V>(l: Latest<V> | null, value: (v: V) => string): string[] => (l === null ? ['', '', ''] : [rel(l.t), b36(l.h), value(l.value)]);
  const profile = trim([rel(s.registeredAt), ...latest(s.consent, (v) => (v ? '1' : '0')), ...latest(s.nps, b36), rel(s.seenAt), rel(s.erasedAt)]);
  const past = s.past === null ? '' : [b36(s.past.count), b36(s.past.netMinor), rel(s.past.first), rel(s.past.last)].join(',');
  const orders = s.orders
    .map((o) =>
      trim([
        o.key,
        rel(o.completed?.t ?? null),
        o.completed === null ? '' : b36(o.completed.h),
        o.completed === null ? '' : b36(o.completed.amountMinor),
        rel(o.refund?.t ?? null),
        o.refund === null ? '' : b36(o.refund.amountMinor),
        rel(o.cancelledAt),
      ]),
    )
    .join(';');
  const interactions = s.interactions
    .map((i) => trim([i.key, rel(i.t), b36(i.h), b36((i.csat ?? 0) * 4 + (i.complaint ? 2 : 0) + (i.resolved ? 1 : 0)), i.caseKey ?? '']))
    .join(';');
  return [VERSION, b36(s.asOf), members, profile, past, orders, interactions, s.customerId].join('|');
}

// ------------------------------------------------------------------ decode

const time = z.number().int().min(0).max(253_402_300_799_000).multipleOf(SECOND_MS);
const key = z.string().regex(new RegExp(`^[0-9a-z]{${KEY_DIGITS}}$`));
const tie = z
  .number()
  .int()
  .min(0)
  .max(TIE_MODULUS - 1);
const amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const latestOf = <T extends z.ZodType>(value: T) => z.object({ t: time, h: tie, value }).nullable();
const sortedByKey = (list: readonly { key: string }[]): boolean => list.every((x, i) => i === 0 || (list[i - 1] as { key: string }).key < x.key);

/** The decoded state must satisfy this schema (ranges, vocabularies, canonical order). */
export const CustomerStateSchema = z.object({
  customerId: z.string().min(1).max(128),
  asOf: z.number().int().min(0).max(253_402_300_799_999),
  registeredAt: time.nullable(),
  consent: latestOf(z.boolean()),
  nps: latestOf(z.number().int().min(0).max(10)),
  seenAt: time.nullable(),
  erasedAt: time.nullable(),
  past: z.object({ count: z.number().int().min(1), netMinor: amount, first: time, last: time }).nullable(),
  orders: z
    .array(
      z.object({
        key,
        completed: z.object({ t: time, h: tie, amountMinor: amount }).nullable(),
        refund: z.object({ t: time, amountMinor: amount }).nullable(),
        cancelledAt: time.nullable(),
      }),
    )
    .refine(sortedByKey, { message: 'orders must be sorted by key without duplicates' }),
  interactions: z
    .array(
      z.object({
        key,
        t: time,
        h: tie,
        csat: z.number().int().min(1).max(5).nullable(),
        complaint: z.boolean(),
        resolved: z.boolean(),
        caseKey: key.nullable(),
      }),
    )
    .refine(sortedByKey, { message: 'interactions must be sorted by key without duplicates' }),
  memberships: z.object({
    rfmSegment: z.enum(RFM_SEGMENTS).nullable(),
    stage: z.enum(STAGES).nullable(),
    tier: z.enum(TIERS).nullable(),
    satisfaction: z.enum(SATISFACTION_LEVELS).nullable(),
    expectationGap: z.enum(EXPECTATION_GAPS).nullable(),
    quadrant: z.enum(QUADRANTS).nullable(),
    custom: z.array(z.string().regex(SEGMENT_NAME)),
  }),
});

function fail(message: string): never {
  throw new StateDecodeError(`corrupt state: ${message}`);
}

function num(s: string | undefined, what: string): number {
  if (s === undefined || !/^[0-9a-z]{1,11}$/.test(s)) fail(`${what} is not a base-36 number: ${JSON.stringify(s)}`);
  return Number.parseInt(s, 36);
}
function opt(s: string | undefined, what: string): number | null {
  return s === undefined || s === '' ? null : num(s, what);
}

/**
 * Decodes a string produced by encodeState. Throws StateDecodeError (never anything else)
 * on corrupt, truncated or unknown-version input.
 */
export function decodeState(encoded: string): CustomerState {
  if (typeof encoded !== 'string') fail('not a string');
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < 7; i++) {
    const bar = encoded.indexOf('|', from);
    if (bar < 0) fail(`expected 8 fields, found ${i + 1}`);
    parts.push(encoded.slice(from, bar));
    from = bar + 1;
  }
  parts.push(encoded.slice(from));
  const [version, asOfS, membersS, profileS, pastS, ordersS, interactionsS, customerId] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (version !== VERSION) fail(`unknown version ${JSON.stringify(version)}`);
  const asOf = num(asOfS, 'asOf');
  const asOfSec = Math.floor(asOf / SECOND_MS);
  const abs = (s: string | undefined, what: string): number | null => {
    const r = opt(s, what);
    return r === null ? null : (asOfSec - r) * SECOND_MS;
  };
  const req = (s: string | undefined, what: string): number => abs(s, what) ?? fail(`${what} is missing`);

  const [codes = '', customS] = membersS.split(':');
  if (codes.length !== MEMBERSHIP_FIELDS.length) fail('memberships have the wrong length');
  const memberships: Record<string, unknown> = { custom: customS === undefined ? [] : customS.split(',') };
  MEMBERSHIP_FIELDS.forEach((f, i) => {
    const ch = codes[i] as string;
    memberships[f] = ch === '-' ? null : ((VOCABS[i] as readonly string[])[num(ch, f)] ?? fail(`${f} code ${ch} is unknown`));
  });

  const p = profileS.split(',');
  const latest = (i: number, what: string, value: (s: string) => unknown): unknown => {
    const t = abs(p[i], what);
    return t === null ? null : { t, h: num(p[i + 1], `${what}.h`), value: value(p[i + 2] ?? '') };
  };
  const profile = {
    registeredAt: abs(p[0], 'registeredAt'),
    consent: latest(1, 'consent', (v) => (v === '1' ? true : v === '0' ? false : fail('consent value'))),
    nps: latest(4, 'nps', (v) => num(v, 'nps')),
    seenAt: abs(p[7], 'seenAt'),
    erasedAt: abs(p[8], 'erasedAt'),
  };

  let past: PastOrders | null = null;
  if (pastS !== '') {
    const q = pastS.split(',');
    past = { count: num(q[0], 'past.count'), netMinor: num(q[1], 'past.net'), first: req(q[2], 'past.first'), last: req(q[3], 'past.last') };
  }
  const orders: OrderRecord[] =
    ordersS === ''
      ? []
      : ordersS.split(';').map((rec) => {
          const f = rec.split(',');
          const ct = abs(f[1], 'order.completed.t');
          const rt = abs(f[4], 'order.refund.t');
          return {
            key: f[0] ?? '',
            completed: ct === null ? null : { t: ct, h: num(f[2], 'order.completed.h'), amountMinor: num(f[3], 'order.completed.amount') },
            refund: rt === null ? null : { t: rt, amountMinor: num(f[5], 'order.refund.amount') },
            cancelledAt: abs(f[6], 'order.cancelledAt'),
          };
        });
  const interactions: InteractionRecord[] =
    interactionsS === ''
      ? []
      : interactionsS.split(';').map((rec) => {
          const f = rec.split(',');
          const code = num(f[3], 'interaction.code');
          if (code > 23) fail(`interaction code ${code} out of range`);
          const csat = Math.floor(code / 4);
          return {
            key: f[0] ?? '',
            t: req(f[1], 'interaction.t'),
            h: num(f[2], 'interaction.h'),
            csat: csat === 0 ? null : csat,
            complaint: (code & 2) !== 0,
            resolved: (code & 1) !== 0,
            caseKey: f[4] === undefined || f[4] === '' ? null : f[4],
          };
        });
  const parsed = CustomerStateSchema.safeParse({ customerId, asOf, ...profile, past, orders, interactions, memberships });
  if (!parsed.success)
    throw new StateDecodeError(
      `corrupt state: ${parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  return parsed.data as CustomerState;
}
