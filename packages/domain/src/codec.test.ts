import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from './codec.ts';
import { parseDomainConfig } from './config.ts';
import { apply, evaluate } from './engine.ts';
import { StateDecodeError } from './errors.ts';
import type { CustomerState } from './state.ts';
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
});
