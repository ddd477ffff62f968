/**
 * A customer's record, the value of its field in the partition's state hash, as
 * commitBatch.lua writes it:
 *
 *   <version>|<packed history>|<encoded state>
 *
 * The version is the compare-and-set guard (every rewrite adds one). The history
 * (history.ts, '' when none) never holds a '|', so the second '|' ends it whatever the state
 * holds. History and state share one field: a field of its own cost a hash entry, the field
 * name and a bucket, about 55 bytes per customer, besides its value.
 */

export interface StoredCustomer {
  /** 0 when the customer has no state yet. */
  version: number;
  /** The encoded state, or null. */
  state: string | null;
}

export interface CustomerRecord extends StoredCustomer {
  /** The packed recent-change history (history.ts), or null when none is kept. */
  history: string | null;
}

/** The parts of a record; null (no record) is version 0, no state and no history. */
export function parseCustomerRecord(raw: string | null): CustomerRecord {
  if (raw === null) return { version: 0, state: null, history: null };
  const bar = raw.indexOf('|');
  const end = raw.indexOf('|', bar + 1);
  const version = Number(raw.slice(0, bar));
  if (bar < 1 || end < 0 || !Number.isInteger(version)) throw new Error(`corrupt customer record (no <version>|<history>| prefix): ${raw.slice(0, 40)}`);
  return { version, state: raw.slice(end + 1), history: end === bar + 1 ? null : raw.slice(bar + 1, end) };
}

/** A record's version and state (null: version 0 and no state). */
export function parseStateRecord(raw: string | null): StoredCustomer {
  const { version, state } = parseCustomerRecord(raw);
  return { version, state };
}
