import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IndexMove, netIndexMoves } from './index-moves.ts';

/** Member sets ("<dimension>:<value>" -> customers) after applying `ops` one by one to `initial`. */
type Sets = Map<string, Set<string>>;
const copy = (sets: Sets): Sets => new Map([...sets].map(([k, v]) => [k, new Set(v)]));
const set = (sets: Sets, name: string): Set<string> => {
  let s = sets.get(name);
  if (s === undefined) {
    s = new Set();
    sets.set(name, s);
  }
  return s;
};

/** What commitBatch.lua did before netting: one SREM/SADD per move, counting what really changed. */
function applyOneByOne(initial: Sets, moves: readonly IndexMove[]): { sets: Sets; delta: Map<string, number> } {
  const sets = copy(initial);
  const delta = new Map<string, number>();
  const move = (name: string, customerId: string, add: boolean) => {
    const s = set(sets, name);
    const changed = add ? !s.has(customerId) : s.has(customerId);
    if (add) s.add(customerId);
    else s.delete(customerId);
    if (changed) delta.set(name, (delta.get(name) ?? 0) + (add ? 1 : -1));
  };
  for (const m of moves) {
    if (m.from !== null) move(`${m.dimension}:${m.from}`, m.customerId, false);
    if (m.to !== null) move(`${m.dimension}:${m.to}`, m.customerId, true);
  }
  return { sets, delta };
}

/** What commitBatch.lua does with the netted moves: per set, SADD the adds and SREM the removes. */
function applyNetted(initial: Sets, moves: readonly IndexMove[]): { sets: Sets; delta: Map<string, number> } {
  const sets = copy(initial);
  const delta = new Map<string, number>();
  for (const g of netIndexMoves(moves)) {
    const name = `${g.dimension}:${g.value}`;
    const s = set(sets, name);
    let d = 0;
    for (const id of g.add) {
      if (!s.has(id)) d++;
      s.add(id);
    }
    for (const id of g.remove) if (s.delete(id)) d--;
    if (d !== 0) delta.set(name, d);
  }
  return { sets, delta };
}

const nonEmpty = (sets: Sets) => new Map([...sets].filter(([, s]) => s.size > 0).map(([k, s]) => [k, [...s].sort()]));
const nonZero = (delta: Map<string, number>) => new Map([...delta].filter(([, d]) => d !== 0));

describe('netIndexMoves', () => {
  it('keeps one move per customer and set: the last, so a chain a -> b -> c removes from a and b and adds to c', () => {
    const moves: IndexMove[] = [
      { customerId: 'alice', dimension: 'stage', from: 'a', to: 'b' },
      { customerId: 'bob', dimension: 'stage', from: null, to: 'b' },
      { customerId: 'alice', dimension: 'stage', from: 'b', to: 'c' },
      { customerId: 'alice', dimension: 'custom', from: null, to: 'vip' },
    ];
    expect(netIndexMoves(moves)).toEqual([
      { dimension: 'stage', value: 'a', add: [], remove: ['alice'] },
      { dimension: 'stage', value: 'b', add: ['bob'], remove: ['alice'] },
      { dimension: 'stage', value: 'c', add: ['alice'], remove: [] },
      { dimension: 'custom', value: 'vip', add: ['alice'], remove: [] },
    ]);
    expect(netIndexMoves([])).toEqual([]);
  });

  it('leaves every set and count as the moves applied one by one would, whatever the sets held before', () => {
    const customer = fc.constantFrom('alice', 'bob', 'carol');
    const value = fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null });
    const move = fc.record({ customerId: customer, dimension: fc.constantFrom('stage', 'tier'), from: value, to: value });
    const initial = fc
      .array(fc.tuple(fc.constantFrom('stage:a', 'stage:b', 'tier:a', 'tier:c'), fc.subarray(['alice', 'bob', 'carol'])))
      .map((entries) => new Map(entries.map(([k, v]) => [k, new Set(v)])));
    fc.assert(
      fc.property(initial, fc.array(move, { maxLength: 12 }), (sets, moves) => {
        const one = applyOneByOne(sets, moves);
        const net = applyNetted(sets, moves);
        expect(nonEmpty(net.sets)).toEqual(nonEmpty(one.sets));
        expect(nonZero(net.delta)).toEqual(nonZero(one.delta));
        for (const g of netIndexMoves(moves)) expect(g.add.filter((id) => g.remove.includes(id))).toEqual([]);
      }),
    );
  });
});
