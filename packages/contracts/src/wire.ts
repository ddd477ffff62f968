/**
 * Confluent wire format: magic byte 0x00, the schema id as a 4-byte big-endian integer, then
 * the Avro binary body.
 */
import type { AvroType } from './avro.ts';
import type { AvroWriter } from './avro-writer.ts';
import { REFUSED } from './refused.ts';

export const MAGIC_BYTE = 0x00;
/** Magic byte (1) + schema id (4). */
export const WIRE_HEADER_BYTES = 5;

/** Prefixes an Avro body with the wire-format header of `schemaId`. */
export function encodeWireFormat(schemaId: number, avroBody: Buffer): Buffer {
  const header = Buffer.alloc(WIRE_HEADER_BYTES);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, avroBody]);
}

/**
 * Writes the wire-format header of `schemaId` and then `data` as Avro of `type` into `buf` from
 * `pos`: the body with `write` (the type's compiled writer, avro-writer.ts) unless there is none
 * or it refuses the value, else with avsc. Returns the end of the value; an end past
 * `buf.length` means `buf` lacks room, and the value must be written again where there is
 * room for at least that much.
 */
export function writeWireFormat(buf: Buffer, pos: number, schemaId: number, type: AvroType, write: AvroWriter | null, data: unknown): number {
  const body = pos + WIRE_HEADER_BYTES;
  if (body > buf.length) return body;
  buf[pos] = MAGIC_BYTE;
  buf.writeInt32BE(schemaId, pos + 1);
  if (write !== null) {
    const end = write(buf, body, data);
    if (end !== REFUSED) return end;
  }
  const end = type.encode(data, buf, body);
  // avsc reports the bytes missing as a negative result.
  return end < 0 ? buf.length - end : end;
}

/** The schema id and body of a wire-format value, or null when it is shorter than the header. */
export function readWireFormat(value: Buffer): { schemaId: number; body: Buffer } | null {
  if (value.length < WIRE_HEADER_BYTES || value[0] !== MAGIC_BYTE) return null;
  return { schemaId: value.readInt32BE(1), body: value.subarray(WIRE_HEADER_BYTES) };
}
