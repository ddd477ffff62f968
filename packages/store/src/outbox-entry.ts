/**
 * The records of one outbox entry, packed by the writer (commitBatch) into one binary field
 * `r` and unpacked by the reader (readOutbox): per record, the key's UTF-8 length (uint32 BE),
 * the key, the value's length (uint32 BE), the value. One field per entry, not two per record,
 * keeps the commit's arguments few: each argument costs Node, Redis and the script a step.
 * Entries written before this format hold fields k (key) and v (value) per record, repeated;
 * readOutbox still reads them.
 */

/** One record for the changes topic, as the outbox keeps it and the relay produces it. */
export interface OutboxRecord {
  key: string;
  value: Buffer;
}

/** The field that holds an entry's packed records (commitBatch.lua writes it). */
export const PACKED_FIELD = 'r';

/** Packs `records` into one field value. */
export function packRecords(records: readonly OutboxRecord[]): Buffer {
  let size = 0;
  for (const r of records) size += 8 + Buffer.byteLength(r.key) + r.value.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const r of records) {
    const keyLength = out.write(r.key, at + 4, 'utf8');
    out.writeUInt32BE(keyLength, at);
    at += 4 + keyLength;
    out.writeUInt32BE(r.value.length, at);
    r.value.copy(out, at + 4);
    at += 4 + r.value.length;
  }
  return out;
}

/** The records packed in `packed`; throws when it is not what packRecords writes. */
export function unpackRecords(packed: Buffer): OutboxRecord[] {
  const records: OutboxRecord[] = [];
  let at = 0;
  const take = (): Buffer => {
    if (at + 4 > packed.length) throw new Error(`truncated packed outbox records at byte ${at} of ${packed.length}`);
    const length = packed.readUInt32BE(at);
    const end = at + 4 + length;
    if (end > packed.length) throw new Error(`truncated packed outbox records at byte ${at} of ${packed.length}`);
    const part = packed.subarray(at + 4, end);
    at = end;
    return part;
  };
  while (at < packed.length) {
    const key = take().toString('utf8');
    records.push({ key, value: take() });
  }
  return records;
}

/** An outbox entry's fields (as XRANGE returns them) as records: packed, or k/v pairs of the earlier format. */
export function entryRecords(id: string, fields: readonly Buffer[]): OutboxRecord[] {
  if (fields.length === 2 && fields[0]?.toString() === PACKED_FIELD) return unpackRecords(fields[1] as Buffer);
  const records: OutboxRecord[] = [];
  for (let i = 0; i < fields.length; i += 4) {
    if (i + 3 >= fields.length || fields[i]?.toString() !== 'k' || fields[i + 2]?.toString() !== 'v')
      throw new Error(`outbox entry ${id} is neither packed records nor k/v pairs`);
    records.push({ key: (fields[i + 1] as Buffer).toString('utf8'), value: fields[i + 3] as Buffer });
  }
  return records;
}
