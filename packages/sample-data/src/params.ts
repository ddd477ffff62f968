/**
 * The generator's parameters: a zod schema with a documented default for every field, so
 * `parseSampleDataParams({ customers: 500 })` is a complete, valid configuration. Defaults
 * follow published fits of the models the generator implements (cited per field).
 */
import { isIsoUtc } from '@crm/contracts';
import { z } from 'zod';

const positive = z.number().positive().finite();
const probability = z.number().min(0).max(1);
const days = z.number().min(0).max(36_500);
/** Relative weights of categorical choices (they need not sum to 1; a missing choice weighs 0). */
const weights = <K extends string>(keys: readonly [K, ...K[]]) =>
  z
    .partialRecord(z.enum(keys), z.number().min(0))
    .refine((w) => Object.values(w).some((x) => typeof x === 'number' && x > 0), 'needs at least one positive weight');

/**
 * BG/NBD purchase process (Fader, Hardie & Lee 2005, "Counting your customers the easy way:
 * an alternative to the Pareto/NBD model", Marketing Science 24(2)). While alive, a customer
 * buys at rate λ ~ Gamma(r, α) per `timeUnitDays`; after each repeat purchase the customer
 * drops out for good with probability p ~ Beta(a, b). Defaults are the paper's CDNOW fit
 * (weeks): r = 0.243, α = 4.414, a = 0.793, b = 2.426 — a mean rate of r/α ≈ 0.055 purchases
 * a week (≈ 2.9 a year) among the living, very heterogeneous (shape 0.24), and a mean dropout
 * of a/(a+b) ≈ 25% after each purchase.
 */
const Purchase = z
  .object({
    r: positive.default(0.243),
    alpha: positive.default(4.414),
    a: positive.default(0.793),
    b: positive.default(2.426),
    /** The time unit of λ and α, in days (7: the CDNOW fit is in weeks). */
    timeUnitDays: positive.default(7),
    /** Mean delay (days, exponential) from registration to the first purchase. */
    firstPurchaseDelayDays: days.default(10),
  })
  .strict();

/**
 * Gamma-gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves for
 * customer base analysis", JMR 42(4); Colombo & Jiang 1999). Each customer has ν ~ Gamma(q, γ)
 * (rate γ); each order's spend is Gamma(p, ν) (rate ν), so the customer's mean spend is p/ν
 * and the population mean p·γ/(q − 1). Defaults are the CDNOW fit (US dollars): p = 6.25,
 * q = 3.74, γ = 15.44, a mean order of ≈ $35.
 */
const Spend = z
  .object({
    p: positive.default(6.25),
    q: positive.default(3.74),
    gamma: positive.default(15.44),
    /** Multiplies every spend (e.g. 2 for a basket twice CDNOW's). */
    scale: positive.default(1),
    /** Minor units per currency unit (100 for cents). */
    minorPerUnit: z.number().int().min(1).default(100),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO-4217 code of three capital letters')
      .default('USD'),
    /** Mean price of one item (currency units): item counts follow spend / price. */
    meanItemPrice: positive.default(15),
  })
  .strict();

const Orders = z
  .object({
    channels: weights(['web', 'app', 'store'] as const).default({ web: 0.55, app: 0.25, store: 0.2 }),
    /** Store ids are `store-1` … `store-<stores>` (store-channel orders only). */
    stores: z.number().int().min(1).max(100_000).default(25),
    /** Share of orders refunded (retail e-commerce refund rates are a few percent to ~10%). */
    refundProbability: probability.default(0.06),
    /** Refunds come 0.5 to this many days after the order (a return window). */
    refundMaxDays: days.default(30),
    /** Share of refunds that are partial (the rest refund the whole order). */
    partialRefundShare: probability.default(0.4),
    /** Share of orders cancelled (a cancellation voids the order). */
    cancelProbability: probability.default(0.025),
    /** Cancellations come within this many days of the order. */
    cancelMaxDays: days.default(2),
  })
  .strict();

/**
 * Service contacts. Each customer has a latent happiness h ~ Beta(happinessA, happinessB)
 * (default mean 0.75). A rated contact's CSAT is 1 + Binomial(4, h); NPS is Binomial(10, h).
 * A contact is a complaint with probability complaintMax · (1 − h)^complaintExponent, so
 * unhappy customers complain more, and a complaint is rated 1 + Binomial(4, h · complaintCsatFactor).
 */
const Service = z
  .object({
    happinessA: positive.default(6),
    happinessB: positive.default(2),
    /** Chance that an order leads to a contact within contactMaxDays. */
    contactPerOrder: probability.default(0.15),
    /** Chance that a refund or cancellation leads to a contact. */
    contactPerRefund: probability.default(0.5),
    /** Chance that a registered customer who never buys contacts the desk once. */
    contactPerNeverBuyer: probability.default(0.2),
    contactMaxDays: days.default(7),
    complaintMax: probability.default(0.6),
    complaintExponent: positive.default(2),
    complaintCsatFactor: probability.default(0.4),
    /** Chance that a contact's CSAT survey is answered. */
    csatResponse: probability.default(0.55),
    /** Chance that a contact carries an NPS answer. */
    npsResponse: probability.default(0.25),
    /** Chance that a complaint case is eventually resolved (a follow-up on the same case). */
    complaintResolution: probability.default(0.8),
    /** Mean days (exponential) from a complaint to its follow-up. */
    complaintFollowUpDays: days.default(5),
    channels: weights(['phone', 'email', 'chat', 'store', 'social', 'other'] as const).default({
      phone: 0.35,
      email: 0.25,
      chat: 0.3,
      store: 0.05,
      social: 0.04,
      other: 0.01,
    }),
  })
  .strict();

const Profiles = z
  .object({
    /**
     * Share of registered customers who never buy (sign-ups without a purchase are common: a
     * third to a half of accounts in many shops).
     */
    neverBuyerShare: probability.default(0.3),
    /** Share of buyers who check out as guests (no registration event; their first order is their start). */
    guestShare: probability.default(0.1),
    /** Chance that a registration comes with a marketing-consent event. */
    consentAtSignup: probability.default(0.6),
    /** Chance that such consent is a yes. */
    consentYes: probability.default(0.7),
    /** Chance that a buyer who drops out later asks for erasure (within ~6 months, exponential). */
    erasureAfterDropout: probability.default(0.005),
  })
  .strict();

export const SampleDataParamsSchema = z
  .object({
    /** Seed of every random draw: the same parameters give the same events. */
    seed: z.number().int().min(0).max(0xffff_ffff).default(1),
    /** Customers acquired over `acquisitionDays` (arrival times uniform, in order). */
    customers: z.number().int().min(0).max(100_000_000).default(1000),
    /** Start of the simulated period: ISO-8601 UTC or epoch milliseconds. */
    start: z
      .union([z.string().refine(isIsoUtc, 'must be an ISO-8601 UTC timestamp, e.g. 2024-01-01T00:00:00Z'), z.number().int().min(0)])
      .default('2024-01-01T00:00:00Z')
      .transform((s) => (typeof s === 'number' ? s : Date.parse(s))),
    /** Length of the simulated period: no event is later than start + days. */
    days: z.number().positive().max(36_500).default(730),
    /** Customers arrive during the first acquisitionDays (default: the whole period). */
    acquisitionDays: z.number().positive().max(36_500).nullable().default(null),
    /** Customer ids are `<idPrefix><zero-padded index>`; event and order ids extend them. */
    idPrefix: z
      .string()
      .regex(/^[\w.:-]{0,64}$/, 'must be at most 64 letters, digits, _ . : or -')
      .default('c'),
    /** CloudEvents `source` prefix of the generated events. */
    source: z.string().min(1).max(200).default('urn:crm:sample-data'),
    purchase: Purchase.prefault({}),
    spend: Spend.prefault({}),
    orders: Orders.prefault({}),
    service: Service.prefault({}),
    profiles: Profiles.prefault({}),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.spend.q <= 1) {
      ctx.addIssue({ code: 'custom', path: ['spend', 'q'], message: 'must be greater than 1: the gamma-gamma mean spend p·γ/(q − 1) is infinite otherwise' });
    }
    if (p.acquisitionDays !== null && p.acquisitionDays > p.days) {
      ctx.addIssue({ code: 'custom', path: ['acquisitionDays'], message: `must not exceed days (${p.days})` });
    }
    if (p.orders.refundProbability + p.orders.cancelProbability > 1) {
      ctx.addIssue({ code: 'custom', path: ['orders', 'refundProbability'], message: 'refundProbability + cancelProbability must not exceed 1' });
    }
  });

/** What callers pass: every field optional. */
export type SampleDataParamsInput = z.input<typeof SampleDataParamsSchema>;
/** Complete, validated parameters (start in epoch milliseconds). */
export type SampleDataParams = z.output<typeof SampleDataParamsSchema>;

export class SampleDataParamsError extends Error {
  override name = 'SampleDataParamsError';
  readonly issues: ReadonlyArray<{ path: string; message: string }>;
  constructor(issues: ReadonlyArray<{ path: string; message: string }>) {
    super(`invalid sample-data parameters: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/** Fills defaults and validates; throws SampleDataParamsError naming each bad field. */
export function parseSampleDataParams(input: SampleDataParamsInput = {}): SampleDataParams {
  const parsed = SampleDataParamsSchema.safeParse(input);
  if (!parsed.success) throw new SampleDataParamsError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return parsed.data;
}

/** Every default. */
export const defaultSampleDataParams: SampleDataParams = parseSampleDataParams({});
