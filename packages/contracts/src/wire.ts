/**
 * Confluent wire format: magic byte 0x00, the schema id as a 4-byte big-endian integer, then
 * the Avro binary body.
 */
import type { AvroType } from './avro.ts';

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
 * Writes the wire-format header of `schemaId` and then `data` as Avro of `type` into `buf`
 * from its start. Returns the end of the value, or (avsc's convention) minus the number of
 * bytes `buf` lacks.
 */
export function writeWireFormat(buf: Buffer, schemaId: number, type: AvroType, data: unknown): number {
  if (buf.length < WIRE_HEADER_BYTES) return buf.length - WIRE_HEADER_BYTES;
  buf.writeUInt8(MAGIC_BYTE, 0);
  buf.writeInt32BE(schemaId, 1);
  return type.encode(data, buf, WIRE_HEADER_BYTES);
}

/** The schema id and body of a wire-format value, or null when it is shorter than the header. */
export function readWireFormat(value: Buffer): { schemaId: number; body: Buffer } | null {
  if (value.length < WIRE_HEADER_BYTES || value[0] !== MAGIC_BYTE) return null;
  return { schemaId: value.readInt32BE(1), body: value.subarray(WIRE_HEADER_BYTES) };
}
