/**
 * The closed vocabularies of every dimension, in a fixed order (the order is the compact
 * codec's code for each value: append only, never reorder).
 */
import type { Dimension } from '@crm/contracts';

export const RFM_SEGMENTS = [
  'champions',
  'loyal_customers',
  'potential_loyalist',
  'new_customers',
  'promising',
  'need_attention',
  'about_to_sleep',
  'at_risk',
  'cant_lose_them',
  'hibernating',
  'lost',
] as const;
export type RfmSegment = (typeof RFM_SEGMENTS)[number];

export const STAGES = ['prospect', 'new', 'repeat', 'loyal', 'advocate', 'at_risk', 'lapsed', 'churned', 'reactivated'] as const;
export type Stage = (typeof STAGES)[number];

export const TIERS = ['none', 'bronze', 'silver', 'gold', 'platinum'] as const;
export type Tier = (typeof TIERS)[number];

export const SATISFACTION_LEVELS = ['very_low', 'low', 'neutral', 'high', 'very_high'] as const;
export type SatisfactionLevel = (typeof SATISFACTION_LEVELS)[number];

export const EXPECTATION_GAPS = ['unmet', 'met', 'exceeded'] as const;
export type ExpectationGap = (typeof EXPECTATION_GAPS)[number];

export const QUADRANTS = ['apostle', 'loyalist', 'mercenary', 'hostage', 'defector', 'terrorist'] as const;
export type Quadrant = (typeof QUADRANTS)[number];

export const NPS_CLASSES = ['detractor', 'passive', 'promoter'] as const;
export type NpsClass = (typeof NPS_CLASSES)[number];

/** The closed vocabulary of each dimension but `custom`, whose values are the configured segments. */
export const VOCABULARIES: Readonly<Record<Exclude<Dimension, 'custom'>, readonly string[]>> = {
  rfm_segment: RFM_SEGMENTS,
  stage: STAGES,
  tier: TIERS,
  satisfaction: SATISFACTION_LEVELS,
  expectation_gap: EXPECTATION_GAPS,
  quadrant: QUADRANTS,
};
