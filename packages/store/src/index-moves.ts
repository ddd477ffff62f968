/**
 * The segment-index moves of one commit, netted per member set: pure, so commitBatch.lua gets
 * one SADD and one SREM per set instead of one command per move.
 */

/** A move of one customer between the values of one indexed set family (e.g. stage: new -> repeat). */
export interface IndexMove {
  customerId: string;
  /** The family, e.g. 'rfm_segment' or 'custom'. */
  dimension: string;
  from: string | null;
  to: string | null;
}

/** What one commit does to one member set: the customers to add and those to remove (disjoint). */
export interface SetMoves {
  dimension: string;
  value: string;
  add: string[];
  remove: string[];
}

/**
 * The net effect of `moves`, applied in order, on each member set they touch: a customer's last
 * move into or out of a set decides whether it ends in it, so each customer appears at most
 * once per set. Applying the result (in any order) leaves every set as applying the moves one
 * by one would, whatever the sets held before; each set's count changes by the same amount.
 * Sets are listed in the order the moves first touch them.
 */
export function netIndexMoves(moves: readonly IndexMove[]): SetMoves[] {
  /** Set -> customer -> whether the customer ends in it. */
  const sets = new Map<string, { dimension: string; value: string; last: Map<string, boolean> }>();
  const touch = (dimension: string, value: string, customerId: string, member: boolean): void => {
    // The set's key and count field (keys.ts, countField) are both built from this name.
    const name = `${dimension}:${value}`;
    let set = sets.get(name);
    if (set === undefined) {
      set = { dimension, value, last: new Map() };
      sets.set(name, set);
    }
    set.last.set(customerId, member);
  };
  for (const m of moves) {
    if (m.from !== null) touch(m.dimension, m.from, m.customerId, false);
    if (m.to !== null) touch(m.dimension, m.to, m.customerId, true);
  }
  return [...sets.values()].map(({ dimension, value, last }) => {
    const add: string[] = [];
    const remove: string[] = [];
    for (const [customerId, member] of last) (member ? add : remove).push(customerId);
    return { dimension, value, add, remove };
  });
}
