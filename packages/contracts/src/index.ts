/**
 * @crm/contracts: the event contracts of every topic (zod schemas mirroring the Avro schemas
 * in /schemas), their topic table, and the serde that turns record values into validated
 * events and back (Confluent wire format via a schema registry, or JSON).
 */

// Event contracts (zod schemas and inferred types) and their building blocks.
export {
  amountMinor,
  ChangeCause,
  currency,
  DeadLetterData,
  DeadLetterEvent,
  DeadLetterHeader,
  DIMENSIONS,
  type Dimension,
  id,
  INPUT_TOPICS,
  INTERACTION_CHANNELS,
  INTERACTION_REASONS,
  INTERACTION_TYPES,
  InteractionData,
  InteractionEvent,
  type InteractionReason,
  type InputEvent,
  type InputTopic,
  isIsoUtc,
  isoUtcMillis,
  isoTime,
  MAX_AMOUNT_MINOR,
  MAX_ID_LENGTH,
  MAX_TEXT_LENGTH,
  ORDER_TYPES,
  OrderData,
  OrderEvent,
  type OrderType,
  PROFILE_TYPES,
  ProfileData,
  ProfileEvent,
  type ProfileType,
  RESOLUTIONS,
  type Resolution,
  SegmentChangeData,
  SegmentChangeEvent,
  TOPICS,
  suffixedTopics,
  text,
} from './events.ts';

// Topic table.
export { ALL_TOPICS, EVENT_SCHEMAS, EVENT_TYPES, type EventOf, isTopic, subjectOf, type Topic, topicOfType } from './topics.ts';

// Avro schemas (source of truth, read from /schemas).
export { type AvroRecordSchema, type AvroType, avroType, loadAvroSchema, SCHEMA_DIR } from './avro.ts';

// Serde and its errors.
export { DECODE_REASONS, DecodeError, type DecodeIssue, type DecodeReason, EncodeError, RegistryError } from './errors.ts';
export { type DecodeResult, type EncodeOptions, decodeInput, decodeInputs, encodeOutput, encodeOutputs } from './serde.ts';
export { type RegistryClient, registerSchemas, schemaIdFor } from './registry.ts';
export { MAGIC_BYTE, WIRE_HEADER_BYTES } from './wire.ts';

// Dead letters.
export {
  chunkByBytes,
  DEAD_LETTER_REQUEST_BYTES,
  type DeadLetterOptions,
  deadLetterKey,
  type FailedRecord,
  MAX_KEPT_BYTES,
  MAX_KEPT_HEADER_BYTES,
  MAX_KEPT_KEY_BYTES,
  toDeadLetter,
  UNKNOWN_SUBJECT,
} from './dead-letter.ts';

// Admission: keys and event-time bounds checked after decoding.
export {
  admissionError,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  DEFAULT_MIN_EVENT_TIME,
  type EventTimeBounds,
  type EventTimeRefusal,
  eventTimeRefusal,
} from './admission.ts';
