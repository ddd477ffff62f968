/**
 * Confluent wire format: magic byte 0x00, the schema id as a 4-byte big-endian integer, then
 * the Avro binary body.
 */

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

/** The schema id and body of a wire-format value, or null when it is shorter than the header. */
export function readWireFormat(value: Buffer): { schemaId: number; body: Buffer } | null {
  if (value.length < WIRE_HEADER_BYTES || value[0] !== MAGIC_BYTE) return null;
  return { schemaId: value.readInt32BE(1), body: value.subarray(WIRE_HEADER_BYTES) };
}
