/**
 * @crm/domain: the pure segmentation rules. No I/O, no clock, no randomness: time is an
 * argument (epoch ms), output is a new state and the segment changes it implies.
 * docs/segmentation.md documents every rule and default.
 */

export {
  apply,
  type ApplyOutcome,
  type ApplyResult,
  type CauseInfo,
  changeId,
  describe,
  evaluate,
  MEMBER,
  MEMBERSHIP_FIELD,
  holdsMembership,
  nextDueAt,
  rescore,
  type SegmentChange,
  type Transition,
} from './engine.ts';
export type { CustomerState, Memberships } from './state.ts';
export type { CustomerView } from './derive.ts';
export { type CustomerReading, type DerivedFields, readCustomer } from './read.ts';
export { CustomerStateSchema, decodeState, encodeState } from './codec.ts';
export {
  DEFAULT_RFM_SEGMENT_RULES,
  type DomainConfig,
  type DomainConfigInput,
  DomainConfigSchema,
  defaultDomainConfig,
  parseDomainConfig,
  type RfmCuts,
  RfmCutsSchema,
  type RfmSegmentRule,
  SEGMENT_NAME,
  withRfmCuts,
} from './config.ts';
export { type SegmentField, SEGMENT_FIELDS, type SegmentRule } from './rules.ts';
export {
  DEFAULT_SKETCH_ALPHA,
  mergeRfmSummaries,
  mergeSketches,
  type QuantileSketch,
  quantileCuts,
  type RfmInput,
  type RfmSummary,
  sketchCount,
  sketchOf,
  sketchQuantile,
  summarizeRfm,
} from './sketch.ts';
export { ConfigError, CustomerMismatchError, DomainError, type DomainIssue, StateDecodeError } from './errors.ts';
export {
  EXPECTATION_GAPS,
  type ExpectationGap,
  NPS_CLASSES,
  type NpsClass,
  QUADRANTS,
  type Quadrant,
  RFM_SEGMENTS,
  type RfmSegment,
  SATISFACTION_LEVELS,
  type SatisfactionLevel,
  STAGES,
  type Stage,
  TIERS,
  type Tier,
  VOCABULARIES,
} from './vocabulary.ts';
export { DAY_MS } from './time.ts';
