/**
 * The event-time variables, apart from the package's index: they need @crm/contracts (the
 * bounds' defaults and the ISO time schema), which services without events (the lag monitor)
 * should not load at start. Import from `@crm/service-kit/event-time`.
 */
import { DEFAULT_MAX_FUTURE_SKEW_MS, DEFAULT_MIN_EVENT_TIME, type EventTimeBounds, isoTime } from '@crm/contracts';
import { intVar } from './config.ts';

/**
 * Event-time bounds (docs/segmentation.md), read by the segmenter and by the CSV import (`crm
 * import orders`). An event more than CRM_MAX_FUTURE_SKEW_MS ahead of the reference clock (the
 * wall clock; on the stream clock, the later of the wall clock and the deployment's stream
 * clock; at most ten years) is refused as event_time_future; one dated before
 * CRM_MIN_EVENT_TIME as event_time_too_old.
 */
export const EVENT_TIME_ENV = {
  CRM_MAX_FUTURE_SKEW_MS: intVar(0, 315_576_000_000).default(DEFAULT_MAX_FUTURE_SKEW_MS),
  CRM_MIN_EVENT_TIME: isoTime.default(DEFAULT_MIN_EVENT_TIME),
};

/** The bounds the EVENT_TIME_ENV variables say. */
export function eventTimeBoundsOf(e: { CRM_MAX_FUTURE_SKEW_MS: number; CRM_MIN_EVENT_TIME: string }): EventTimeBounds {
  return { minEventTime: Date.parse(e.CRM_MIN_EVENT_TIME), maxFutureSkewMs: e.CRM_MAX_FUTURE_SKEW_MS };
}
