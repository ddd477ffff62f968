import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CustomerStateSchema, decodeQuickly, decodeState, decodeStateSlowly, encodeState, encodeStateSlowly, satisfiesSchema, splitOn } from './codec.ts';
import { parseDomainConfig } from './config.ts';
import { apply, evaluate } from './engine.ts';
import { StateDecodeError } from './errors.ts';
import type { CustomerState, OrderRecord } from './state.ts';
import { logArb } from './testing/arbitraries.ts';
import { cancelled, completed, consent, day, erasure, interaction, refunded, registered } from './testing/events.ts';
import type { InputEvent } from '@crm/contracts';

const config = parseDomainConfig({ segments: [{ name: 'big_spender', rule: { field: 'monetaryMinor', op: 'gte', value: 100_000 } }] });

function build(events: InputEvent[]): CustomerState {
  let s: CustomerState | null = null;
  for (const e of events) s = apply(s, e, config).state;
  return s as CustomerState;
}

/** A typical customer: registered, consented, 10 orders in the window, 3 interactions (one rated, one NPS). */
function typical(): CustomerState {
  return build([
    registered(day(0)),
    consent(day(0), true),
    ...Array.from({ length: 10 }, (_, i) =>
      completed({ orderId: `ORD-2024-${100_000 + i}`, at: day(i * 33 + 1) + i * 3_723_000, amountMinor: 4_990 + i * 1_250 }),
    ),
    interaction({ at: day(40), csat: 4, interactionId: 'INT-55501' }),
    interaction({ at: day(120), reason: 'complaint', resolution: 'pending', interactionId: 'INT-55502', caseId: 'CASE-901' }),
    interaction({ at: day(125), resolution: 'resolved', interactionId: 'INT-55503', caseId: 'CASE-901', nps: 8 }),
  ]);
}

describe('state codec', () => {
  it('round-trips a typical customer under 350 bytes', () => {
    const s = typical();
    const encoded = encodeState(s);
    expect(decodeState(encoded)).toEqual(s);
    expect(Buffer.byteLength(encoded)).toBeLessThan(350);
    expect(s.orders).toHaveLength(10);
    expect(s.interactions).toHaveLength(3);
  });

  it('round-trips every kind of fact: refunds, cancellations, lifetime summary, tombstone, custom memberships', () => {
    let s = build([
      completed({ orderId: 'old', at: day(0), amountMinor: 200_000 }),
      completed({ orderId: 'a', at: day(500), amountMinor: 120_000 }),
      refunded({ orderId: 'a', at: day(501), amountMinor: 1_000 }),
      cancelled({ orderId: 'b', at: day(502) }),
      interaction({ at: day(503), csat: 2, reason: 'complaint', resolution: 'unresolved', caseId: 'c-1', nps: 3 }),
      consent(day(504), false),
    ]);
    expect(s.past).not.toBeNull();
    expect(s.memberships.custom).toEqual(['big_spender']);
    expect(decodeState(encodeState(s))).toEqual(s);
    s = apply(s, erasure(day(505)), config).state;
    s = apply(s, registered(day(506)), config).state;
    s = evaluate(s, day(506) + 123, config).state;
    expect(decodeState(encodeState(s))).toEqual(s);
  });

  it("keeps the lifetime summary's previous purchase, and reads records written before it was kept", () => {
    const s = evaluate(build([completed({ orderId: 'a', at: day(1) }), completed({ orderId: 'b', at: day(20) })]), day(500), config).state;
    expect(s.past).toMatchObject({ count: 2, last: day(20), previous: day(1) });
    const encoded = encodeState(s);
    expect(decodeState(encoded)).toEqual(s);
    // The same record as written before: four past fields, the second-latest unknown.
    const [version, asOf, members, profile, past, ...rest] = encoded.split('|');
    const old = [version, asOf, members, profile, past?.split(',').slice(0, 4).join(','), ...rest].join('|');
    expect(old).not.toBe(encoded);
    expect(decodeQuickly(old)).toEqual({ ...s, past: { ...s.past, previous: null } });
    expect(decodeStateSlowly(old)).toEqual({ ...s, past: { ...s.past, previous: null } });
  });

  /** version|asOf|memberships|profile|past|orders|interactions|customerId */
  const enc = (...parts: string[]): string => ['1', ...parts].join('|');
  it.each([
    ['', /expected 8 fields/],
    ['2|0|------|||||x', /unknown version/],
    ['1|zz|------||||', /expected 8 fields/],
    [enc('!', '------', '', '', '', '', 'x'), /asOf is not a base-36 number/],
    [enc('100', '-----', '', '', '', '', 'x'), /memberships have the wrong length/],
    [enc('100', 'z-----', '', '', '', '', 'x'), /rfmSegment code z is unknown/],
    [enc('100', '------', '', '', 'abc', '', 'x'), /orders\[0\]\.key/],
    [enc('100', '------', '', '', '', 'abcdefg,0,0,o', 'x'), /interaction code 24 out of range/],
    [enc('100', '------', '', '', 'abcdefg,1', '', 'x'), /order.completed.h/],
    [enc('100', '------', ',0,0,2', '', '', '', 'x'), /consent value/],
    [enc('100', '------', '', '1,1,,1', '', '', 'x'), /past.first is missing/],
    [enc('100', '------', '', '', '', '', ''), /customerId/],
    [enc('100', '------:bad name', '', '', '', '', 'x'), /memberships.custom/],
    [enc('100', '------', '', '', 'bbbbbbb;aaaaaaa', '', 'x'), /sorted by key/],
    [enc('1', '------', '', '', '', 'abcdefg,2,0,0', 'x'), /interactions\[0\]\.t/],
  ])('rejects corrupt input %j with a StateDecodeError', (input, message) => {
    expect(() => decodeState(input)).toThrow(StateDecodeError);
    expect(() => decodeState(input)).toThrow(message);
  });

  it('rejects non-strings', () => {
    expect(() => decodeState(42 as unknown as string)).toThrow(StateDecodeError);
  });

  it('leaves out the customer id the record is stored under, and reads records that hold it', () => {
    const s = typical();
    const held = encodeState(s);
    const left = encodeState(s, s.customerId);
    // The same record without the id: the field of the state hash says it.
    expect(left).toBe(held.slice(0, held.length - s.customerId.length));
    expect(left.endsWith('|')).toBe(true);
    expect(decodeState(left, s.customerId)).toEqual(s);
    expect(decodeStateSlowly(left, s.customerId)).toEqual(s);
    // Records written before the id was left out read the same, whichever id they are stored under.
    expect(decodeState(held, s.customerId)).toEqual(s);
    expect(decodeStateSlowly(held, s.customerId)).toEqual(s);
    expect(decodeState(held, 'another')).toEqual(s);
    // Stored under another id, the state's own is written.
    expect(encodeState(s, 'another')).toBe(held);
    expect(encodeStateSlowly(s, 'another')).toBe(held);
    // Without the id it is stored under, a record that leaves it out does not decode.
    expect(() => decodeState(left)).toThrow(/customerId/);
  });
});

describe('state codec internals', () => {
  it('splits like String#split', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ',', ';', ':') }), fc.constantFrom(',', ';', ':'), (s, separator) => {
        expect(splitOn(s, separator)).toEqual(s.split(separator));
      }),
    );
  });

  it('reads base-36 numbers of 1 to 11 digits like parseInt', () => {
    /** A state whose lifetime summary holds `digits` as its net spend (amounts go up to 2^53 - 1: 11 digits). */
    const withNet = (digits: string): string => `1|zz|------||1,${digits},0,0|||x`;
    const netOf = (digits: string): number | undefined => decodeState(withNet(digits)).past?.netMinor;
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.maxSafeNat()), (net) => {
        expect(netOf(net.toString(36))).toBe(net);
      }),
    );
    for (const digits of ['0', '00000000001', 'zzzzzzzzzz', '2gosa7pa2gv']) expect(netOf(digits)).toBe(Number.parseInt(digits, 36));
    for (const tooBig of ['2gosa7pa2gw', 'zzzzzzzzzzz']) expect(() => decodeState(withNet(tooBig))).toThrow(/past\.netMinor: Too big/);
    for (const bad of ['zzzzzzzzzzzz', 'A', '-1', '1.5', ' 1', '']) expect(() => decodeState(withNet(bad))).toThrow(/past\.net is not a base-36 number/);
  });

  /** A state decodeState could build, with one value moved to (or past) the edge of its range. */
  const nearValid = fc
    .tuple(logArb, fc.nat(), fc.nat(), fc.nat())
    .map(([log, which, index, pick]) => {
      let s: CustomerState | null = null;
      for (const e of log) s = apply(s, e, config).state;
      if (s === null) return null;
      const edge = <T>(values: readonly T[]): T => values[pick % values.length] as T;
      const times = [-1000, 0, 999, 1000, 1500.5, 253_402_300_799_000, 253_402_300_800_000, Number.NaN];
      const ties = [-1, 0, 0.5, 1295, 1296];
      const amounts = [-1, 0, 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1];
      const keys = ['', 'abcdef', 'abcdefg', 'abcdefgh', 'ABCDEFG', 'abc-efg'];
      const order = s.orders[index % Math.max(1, s.orders.length)];
      const inter = s.interactions[index % Math.max(1, s.interactions.length)];
      const mutations: (() => Partial<CustomerState> | null)[] = [
        () => ({}),
        () => ({ customerId: edge(['', 'x', 'x'.repeat(128), 'x'.repeat(129)]) }),
        () => ({ asOf: edge([-1, 0, 0.5, 253_402_300_799_999, 253_402_300_800_000, 2 ** 53]) }),
        () => ({ registeredAt: edge(times) }),
        () => ({ seenAt: edge(times) }),
        () => ({ erasedAt: edge(times) }),
        () => ({
          consent: edge([
            { t: 1000, h: edge(ties), value: true },
            { t: edge(times), h: 0, value: false },
          ]),
        }),
        () => ({ nps: { t: 1000, h: 1, value: edge([-1, 0, 5.5, 10, 11]) } }),
        () => ({ past: { count: edge([0, 1, 1.5]), netMinor: edge(amounts), first: edge(times), last: 1000, previous: edge([null, ...times]) } }),
        () => (order === undefined ? null : { orders: s.orders.map((o) => (o === order ? { ...o, key: edge(keys) } : o)) }),
        () =>
          order?.completed
            ? { orders: s.orders.map((o) => (o === order ? { ...o, completed: { t: edge(times), h: edge(ties), amountMinor: edge(amounts) } } : o)) }
            : null,
        () =>
          order === undefined
            ? null
            : { orders: s.orders.map((o) => (o === order ? { ...o, refund: { t: 1000, amountMinor: edge(amounts) }, cancelledAt: edge(times) } : o)) },
        () => (s.orders.length < 2 ? null : { orders: [...s.orders].reverse() }),
        () => (order === undefined ? null : { orders: [...s.orders, order] }),
        () =>
          inter === undefined
            ? null
            : { interactions: s.interactions.map((i) => (i === inter ? { ...i, key: edge(keys), caseKey: edge([null, ...keys]) } : i)) },
        () =>
          inter === undefined
            ? null
            : { interactions: s.interactions.map((i) => (i === inter ? { ...i, t: edge(times), h: edge(ties), csat: edge([null, 0, 1, 5, 6]) } : i)) },
        () => (s.interactions.length < 2 ? null : { interactions: [...s.interactions].reverse() }),
        () => ({ memberships: { ...s.memberships, stage: edge([null, 'loyal', 'nope']) as never } }),
        () => ({ memberships: { ...s.memberships, custom: edge([[], ['a'], ['bad name'], ['x'.repeat(64)], ['x'.repeat(65)], ['']]) } }),
      ];
      const change = (mutations[which % mutations.length] as () => Partial<CustomerState> | null)();
      return change === null ? s : { ...s, ...change };
    })
    .filter((s): s is CustomerState => s !== null);

  it('encodes in one pass exactly what encodeStateSlowly writes, edge values and non-ASCII text included', () => {
    fc.assert(
      fc.property(nearValid, (s) => {
        expect(encodeState(s)).toBe(encodeStateSlowly(s));
      }),
      { numRuns: 1000 },
    );
    const s = typical();
    const many = { ...s, orders: Array.from({ length: 200 }, (_, i) => ({ ...(s.orders[0] as OrderRecord), key: i.toString(36).padStart(7, '0') })) };
    for (const odd of [
      { ...s, customerId: 'kunde-ü-😀' },
      { ...s, memberships: { ...s.memberships, custom: ['größe'] } },
      { ...s, asOf: 2 ** 60, nps: { t: -5_000, h: 1e21, value: 0.1 } },
      many, // longer than the 1 KiB buffer the encoder starts with
    ])
      expect(encodeState(odd)).toBe(encodeStateSlowly(odd));
    expect(encodeState(many).length).toBeGreaterThan(1024);
  });

  it('leaves the id out in one pass as encodeStateSlowly does, and decodes that in one pass as decodeStateSlowly does', () => {
    fc.assert(
      fc.property(nearValid, fc.boolean(), (s, same) => {
        const storedAs = same ? s.customerId : `${s.customerId}-other`;
        const encoded = encodeState(s, storedAs);
        expect(encoded).toBe(encodeStateSlowly(s, storedAs));
        let expected: CustomerState | string;
        try {
          expected = decodeStateSlowly(encoded, storedAs);
        } catch (err) {
          expected = (err as Error).message;
        }
        const quick = decodeQuickly(encoded, storedAs);
        if (typeof expected === 'string') expect(quick).toBeNull();
        else {
          expect(quick).toStrictEqual(expected);
          // (An empty id, which no state has, is written as it always was: as the one the record is stored under.)
          if (s.customerId !== '') expect(expected).toStrictEqual(decodeStateSlowly(encodeState(s)));
        }
      }),
      { numRuns: 1000 },
    );
  });

  /** What decodeStateSlowly makes of `encoded`: the state, or the message it throws. */
  const slowly = (encoded: string): CustomerState | string => {
    try {
      return decodeStateSlowly(encoded);
    } catch (err) {
      expect(err).toBeInstanceOf(StateDecodeError);
      return (err as Error).message;
    }
  };

  /** Encodings of the states apply and evaluate build, and of states with values at (or past) their edges. */
  const encodedArb = fc.oneof(
    logArb.chain((log) =>
      fc.integer({ min: 0, max: 400 * 86_400_000 }).map((later) => {
        let s: CustomerState | null = null;
        for (const e of log) s = apply(s, e, config).state;
        return s === null ? '1|0|------||||||x' : encodeState(evaluate(s, s.asOf + later, config).state);
      }),
    ),
    nearValid.map(encodeState),
  );

  it('decodes every encoding in one pass, to the state decodeStateSlowly gives', () => {
    fc.assert(
      fc.property(encodedArb, (encoded) => {
        const expected = slowly(encoded);
        const quick = decodeQuickly(encoded);
        // The one pass reads all that encodeState writes; what the schema refuses it leaves to decodeStateSlowly.
        if (typeof expected === 'string') expect(quick).toBeNull();
        else expect(quick).toStrictEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  /**
   * Field-level edits of encodings: a field emptied or given another value, or a field
   * added after one (numbers of any length, a char no field has), so that a field is present
   * without the one it goes with, or missing where it is required.
   */
  const editedArb = fc
    .tuple(
      encodedArb,
      fc.array(
        fc.record({
          at: fc.nat(),
          add: fc.boolean(),
          value: fc.constantFrom('', '0', '1', '2', '00', '01', 'zz', 'zzzzzzzzzz', '2gosa7pa2gv', 'zzzzzzzzzzz', 'abcdefg', 'A'),
        }),
        { minLength: 1, maxLength: 2 },
      ),
    )
    .map(([encoded, edits]) => {
      // Fields and the separators between them, alternating (the version and asOf stay).
      const parts = encoded.split(/([,;:|])/);
      for (const e of edits) {
        const i = 4 + 2 * (e.at % Math.max(1, Math.floor((parts.length - 4) / 2)));
        if (i >= parts.length) continue;
        if (e.add) parts.splice(i + 1, 0, ',', e.value);
        else parts[i] = e.value;
      }
      return parts.join('');
    });

  /** decodeState(s) agrees with decodeStateSlowly (value or error); true when the one pass read s itself. */
  const expectSameAsSlowly = (s: string): boolean => {
    const expected = slowly(s);
    const state = decodeQuickly(s);
    if (state !== null) expect(state).toStrictEqual(expected);
    if (typeof expected === 'string') expect(() => decodeState(s)).toThrow(expected);
    else expect(decodeState(s)).toStrictEqual(expected);
    return state !== null;
  };

  it('leaves to decodeStateSlowly whatever it would decode differently: edited fields', () => {
    let quick = 0;
    fc.assert(
      fc.property(editedArb, (s) => {
        if (expectSameAsSlowly(s)) quick++;
      }),
      { numRuns: 3000 },
    );
    // About a tenth of the edits keep a valid state: the one pass must read those.
    expect(quick).toBeGreaterThan(150);
  });

  it('leaves to decodeStateSlowly whatever it would decode differently: mutated encodings', () => {
    const alphabet = [...'0123456789az-,;:|', 'A', ' ', '.', '\u00e9', '\ud83d\ude00'];
    const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom('insert', 'delete', 'replace'), char: fc.constantFrom(...alphabet) });
    let quick = 0;
    fc.assert(
      fc.property(encodedArb, fc.array(mutation, { minLength: 1, maxLength: 3 }), (encoded, mutations) => {
        let s = encoded;
        for (const m of mutations) {
          const i = m.at % (s.length + 1);
          s = m.kind === 'insert' ? s.slice(0, i) + m.char + s.slice(i) : s.slice(0, i) + (m.kind === 'replace' ? m.char : '') + s.slice(i + 1);
        }
        if (expectSameAsSlowly(s)) quick++;
      }),
      { numRuns: 3000 },
    );
    // Many mutations (a changed digit) still decode: the one pass must read them.
    expect(quick).toBeGreaterThan(300);
  });

  it('checks values exactly like CustomerStateSchema (the decoder trusts it and asks zod only on failure)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(nearValid, (s) => {
        const fast = satisfiesSchema(s);
        expect(fast).toBe(CustomerStateSchema.safeParse(s).success);
        if (fast) accepted++;
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});
