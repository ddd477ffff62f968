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

/** One set touched by the moves: customer -> whether the customer ends in it. */
interface NettedSet {
  readonly dimension: string;
  readonly value: string;
  readonly last: Map<string, boolean>;
}

/**
 * The net effect of `moves`, applied in order, on each member set they touch: a customer's last
 * move into or out of a set decides whether it ends in it, so each customer appears at most
 * once per set. Applying the result (in any order) leaves every set as applying the moves one
 * by one would, whatever the sets held before; each set's count changes by the same amount.
 * Sets are listed in the order the moves first touch them.
 */
export function netIndexMoves(moves: readonly IndexMove[]): SetMoves[] {
  /**
   * Dimension -> value -> customer -> whether the customer ends in that set. Keyed by the two
   * names apart: a "<dimension>:<value>" key was a string built and hashed twice per move.
   */
  const families = new Map<string, Map<string, Map<string, boolean>>>();
  /** The sets in the order the moves first touch them. */
  const order: NettedSet[] = [];
  for (const m of moves) {
    let family = families.get(m.dimension);
    if (family === undefined) {
      family = new Map();
      families.set(m.dimension, family);
    }
    if (m.from !== null) touch(family, order, m.dimension, m.from).set(m.customerId, false);
    if (m.to !== null) touch(family, order, m.dimension, m.to).set(m.customerId, true);
  }
  return order.map(({ dimension, value, last }) => {
    const add: string[] = [];
    const remove: string[] = [];
    for (const [customerId, member] of last) (member ? add : remove).push(customerId);
    return { dimension, value, add, remove };
  });
}

/** The moves into and out of one set of `family` so far, created (and listed in `order`) on first touch. */
function touch(family: Map<string, Map<string, boolean>>, order: NettedSet[], dimension: string, value: string): Map<string, boolean> {
  let last = family.get(value);
  if (last === undefined) {
    last = new Map();
    family.set(value, last);
    order.push({ dimension, value, last });
  }
  return last;
}
