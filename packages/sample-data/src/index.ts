/**
 * @crm/sample-data: a seeded, deterministic generator of realistic customer histories as
 * input events (BG/NBD purchases, gamma-gamma spend, refunds, cancellations, service contacts
 * with CSAT/NPS and complaints, registrations that never buy), streamed in event-time order.
 */
export { generate, streamEvents } from './generate.ts';
export {
  defaultSampleDataParams,
  parseSampleDataParams,
  type SampleDataParams,
  SampleDataParamsError,
  type SampleDataParamsInput,
  SampleDataParamsSchema,
} from './params.ts';
export { expectedOrderValue, expectedRepeatPurchases } from './bgnbd.ts';
export { Random, deriveSeed, mulberry32 } from './random.ts';
