/**
 * Customer histories from the BG/NBD + gamma-gamma generative story, as input events in
 * event-time order, produced lazily: a heap holds only each living customer's next step and
 * the follow-ups already decided (refunds, cancellations, contacts), never the whole log.
 *
 * The story of one customer (each customer draws from its own seeded stream):
 *   1. arrives at a time uniform over the acquisition period; registers (unless a guest buyer),
 *      maybe with a marketing-consent event;
 *   2. a share of registered customers never buy (maybe one inquiry to the service desk);
 *   3. the others buy first after an exponential delay, then repeatedly at rate λ while alive,
 *      dropping out after each repeat purchase with probability p (BG/NBD);
 *   4. each order's amount comes from the gamma-gamma model; some orders are refunded or
 *      cancelled days later; some orders, refunds and cancellations lead to service contacts,
 *      rated by the customer's latent happiness; unhappy customers complain more and rate
 *      complaints lower; most complaint cases are resolved by a follow-up;
 *   5. a few customers who dropped out ask for erasure.
 */
import type { InputEvent, InteractionEvent, OrderEvent, ProfileEvent } from '@crm/contracts';
import { MAX_AMOUNT_MINOR } from '@crm/contracts';
import { type SampleDataParams, type SampleDataParamsInput, parseSampleDataParams } from './params.ts';
import { Random, deriveSeed } from './random.ts';

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/** Longest handle time the contract accepts (7 days, in seconds). */
const MAX_HANDLE_SECONDS = 7 * 24 * 3600;

/** Stream number of the arrival process; customers use their index. */
const ARRIVALS_STREAM = 0xffff_ffff;

interface Task {
  /** Event time, whole seconds (epoch ms). */
  t: number;
  /** Insertion order: ties in time keep a deterministic order. */
  seq: number;
  run: () => InputEvent | null;
}

/** Binary min-heap of tasks by (t, seq). */
class TaskHeap {
  private readonly items: Task[] = [];

  get size(): number {
    return this.items.length;
  }

  push(task: Task): void {
    const items = this.items;
    items.push(task);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(task, items[parent] as Task)) break;
      items[i] = items[parent] as Task;
      i = parent;
    }
    items[i] = task;
  }

  pop(): Task | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && before(items[right] as Task, items[left] as Task) ? right : left;
      if (!before(items[child] as Task, last)) break;
      items[i] = items[child] as Task;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function before(x: Task, y: Task): boolean {
  return x.t < y.t || (x.t === y.t && x.seq < y.seq);
}

const wholeSecond = (ms: number) => Math.floor(ms / SECOND_MS) * SECOND_MS;
/** Whole-second ISO-8601 UTC (the domain keeps seconds; the heap orders by the same floored time). */
const iso = (ms: number) => new Date(wholeSecond(ms)).toISOString().replace('.000Z', 'Z');

/**
 * Generates the events of `params` lazily, in event-time order (ties in a deterministic
 * order). The same parameters always give the same sequence. Memory is proportional to the
 * customers alive at a time, not to the number of events.
 */
export function* streamEvents(input: SampleDataParamsInput = {}): Generator<InputEvent, void, undefined> {
  const params = parseSampleDataParams(input);
  const sim = new Simulation(params);
  yield* sim.run();
}

/** Every event of `params` in an array, in event-time order (convenient below ~10^6 events). */
export function generate(input: SampleDataParamsInput = {}): InputEvent[] {
  return Array.from(streamEvents(input));
}

class Simulation {
  private readonly heap = new TaskHeap();
  private seq = 0;
  private readonly params: SampleDataParams;
  private readonly end: number;
  private readonly idWidth: number;

  constructor(params: SampleDataParams) {
    this.params = params;
    this.end = params.start + params.days * DAY_MS;
    this.idWidth = String(Math.max(0, params.customers - 1)).length;
  }

  *run(): Generator<InputEvent, void, undefined> {
    this.scheduleArrivals();
    for (;;) {
      const task = this.heap.pop();
      if (task === undefined) return;
      const event = task.run();
      if (event !== null) yield event;
    }
  }

  /** Schedules `run` at `t` (floored to the second) unless it falls after the period. */
  private at(t: number, run: () => InputEvent | null): void {
    const time = wholeSecond(t);
    if (time > this.end) return;
    this.heap.push({ t: time, seq: this.seq++, run });
  }

  /**
   * Arrival times are the order statistics of `customers` uniforms over the acquisition
   * period, drawn in ascending order one at a time: the minimum of the n still to come is
   * prev + (1 − prev)(1 − U^(1/n)).
   */
  private scheduleArrivals(): void {
    const { customers, start, days, acquisitionDays } = this.params;
    const span = (acquisitionDays ?? days) * DAY_MS;
    const rng = new Random(deriveSeed(this.params.seed, ARRIVALS_STREAM));
    let fraction = 0;
    const next = (index: number) => {
      if (index >= customers) return;
      fraction += (1 - fraction) * (1 - rng.uniform() ** (1 / (customers - index)));
      const t0 = start + fraction * span;
      this.at(t0, () => {
        next(index + 1);
        return this.arrive(index, t0);
      });
    };
    next(0);
  }

  /** A new customer: decides its traits, schedules its story, returns its first event. */
  private arrive(index: number, t0: number): InputEvent | null {
    const p = this.params;
    const c = new Customer(this.params, `${p.idPrefix}${String(index).padStart(this.idWidth, '0')}`, new Random(deriveSeed(p.seed, index)));
    const rng = c.rng;
    const guest = rng.chance(p.profiles.guestShare);
    if (guest) {
      this.at(t0, () => this.purchase(c, t0, true));
      return null;
    }
    const buys = !rng.chance(p.profiles.neverBuyerShare);
    if (rng.chance(p.profiles.consentAtSignup)) {
      const consent = rng.chance(p.profiles.consentYes);
      this.at(t0 + SECOND_MS, () => c.profile(t0 + SECOND_MS, 'customer.consent.changed', { signupChannel: null, marketingConsent: consent }));
    }
    if (buys) {
      const first = t0 + rng.exponential(p.purchase.firstPurchaseDelayDays * DAY_MS) + SECOND_MS;
      this.at(first, () => this.purchase(c, first, true));
    } else if (rng.chance(p.service.contactPerNeverBuyer)) {
      const t = t0 + rng.between(0, 30 * DAY_MS);
      this.at(t, () => this.contact(c, t, null));
    }
    return c.profile(t0, 'customer.registered', { signupChannel: rng.weighted({ web: 0.6, app: 0.25, store: 0.15 }), marketingConsent: null });
  }

  /** One purchase; decides its follow-ups, the dropout, and the next purchase. */
  private purchase(c: Customer, t: number, first: boolean): InputEvent {
    const { orders, service, profiles } = this.params;
    const rng = c.rng;
    const order = c.order(t);
    // Follow-ups of this order: at most one of cancellation and refund.
    const u = rng.uniform();
    if (u < orders.cancelProbability) {
      const tc = t + rng.between(60 * SECOND_MS, Math.max(orders.cancelMaxDays * DAY_MS, 120 * SECOND_MS));
      this.at(tc, () => c.orderFollowUp(tc, 'commerce.order.cancelled', order.data, order.data.amountMinor));
      if (rng.chance(service.contactPerRefund)) this.contactSoonAfter(c, tc);
    } else if (u < orders.cancelProbability + orders.refundProbability) {
      const tr = t + rng.between(0.5 * DAY_MS, Math.max(orders.refundMaxDays, 1) * DAY_MS);
      const amount = rng.chance(orders.partialRefundShare) ? Math.max(1, Math.round(order.data.amountMinor * rng.between(0.1, 0.8))) : order.data.amountMinor;
      this.at(tr, () => c.orderFollowUp(tr, 'commerce.order.refunded', order.data, amount));
      if (rng.chance(service.contactPerRefund)) this.contactSoonAfter(c, tr);
    } else if (rng.chance(service.contactPerOrder)) {
      this.contactSoonAfter(c, t);
    }
    // BG/NBD: alive after the first purchase; after each repeat purchase, drops out with probability p.
    if (!first && rng.chance(c.dropout)) {
      if (rng.chance(profiles.erasureAfterDropout)) {
        const te = t + rng.exponential(180 * DAY_MS) + DAY_MS;
        this.at(te, () => c.profile(te, 'customer.erasure.requested', { signupChannel: null, marketingConsent: null }));
      }
    } else {
      const next = t + rng.exponential(c.meanGapMs);
      this.at(next, () => this.purchase(c, next, false));
    }
    return order;
  }

  private contactSoonAfter(c: Customer, t: number): void {
    const tc = t + c.rng.between(0, Math.max(this.params.service.contactMaxDays, 0.01) * DAY_MS);
    this.at(tc, () => this.contact(c, tc, null));
  }

  /** A service contact; a complaint opens a case that usually gets a follow-up. */
  private contact(c: Customer, t: number, caseId: string | null): InputEvent {
    const s = this.params.service;
    const rng = c.rng;
    if (caseId !== null) {
      const resolved = rng.chance(s.complaintResolution);
      return c.interaction(t, { caseId, reason: 'complaint', resolution: resolved ? 'resolved' : 'unresolved', complaint: false });
    }
    const complaint = rng.chance(s.complaintMax * (1 - c.happiness) ** s.complaintExponent);
    if (!complaint) {
      const reason = rng.weighted({ inquiry: 0.4, order_issue: 0.25, billing: 0.1, technical: 0.1, compliment: 0.15 * c.happiness, other: 0.05 });
      const resolution = rng.weighted({ resolved: 0.85, unresolved: 0.05, escalated: 0.05, pending: 0.05 });
      return c.interaction(t, { caseId: null, reason, resolution, complaint: false });
    }
    const event = c.interaction(t, { caseId: null, reason: 'complaint', resolution: rng.chance(0.3) ? 'escalated' : 'pending', complaint: true });
    const id = (event.data as { interactionId: string }).interactionId;
    // A case without a follow-up stays open: the complaint counts until resolved.
    const tf = t + rng.exponential(s.complaintFollowUpDays * DAY_MS) + 60 * SECOND_MS;
    this.at(tf, () => this.contact(c, tf, id));
    return event;
  }
}

/** One customer's traits and id counters; builds its events. */
class Customer {
  readonly rng: Random;
  /** BG/NBD purchase rate while alive, as a mean gap between purchases (ms). */
  readonly meanGapMs: number;
  /** BG/NBD dropout probability after each repeat purchase. */
  readonly dropout: number;
  /** Gamma-gamma: the rate ν of this customer's spend distribution Gamma(p, ν). */
  private readonly spendRate: number;
  /** Latent satisfaction in (0, 1): drives CSAT, NPS and complaints. */
  readonly happiness: number;
  private events = 0;
  private orders = 0;
  private contacts = 0;
  private readonly params: SampleDataParams;
  readonly id: string;

  constructor(params: SampleDataParams, id: string, rng: Random) {
    this.params = params;
    this.id = id;
    this.rng = rng;
    const { purchase, spend, service } = params;
    const lambda = rng.gamma(purchase.r, purchase.alpha); // purchases per time unit
    this.meanGapMs = (purchase.timeUnitDays * DAY_MS) / lambda;
    this.dropout = rng.beta(purchase.a, purchase.b);
    this.spendRate = rng.gamma(spend.q, spend.gamma);
    this.happiness = rng.beta(service.happinessA, service.happinessB);
  }

  private envelope(t: number, topic: 'orders' | 'service' | 'profiles') {
    return { specversion: '1.0' as const, id: `${this.id}-e${++this.events}`, source: `${this.params.source}:${topic}`, time: iso(t), subject: this.id };
  }

  profile(t: number, type: ProfileEvent['type'], data: ProfileEvent['data']): ProfileEvent {
    return { ...this.envelope(t, 'profiles'), type, data };
  }

  order(t: number): OrderEvent {
    const { spend, orders } = this.params;
    const units = this.rng.gamma(spend.p, this.spendRate) * spend.scale;
    const amountMinor = Math.min(MAX_AMOUNT_MINOR, Math.max(1, Math.round(units * spend.minorPerUnit)));
    const channel = this.rng.weighted(orders.channels);
    const itemCount = Math.min(100_000, Math.max(1, Math.round(units / (spend.meanItemPrice * this.rng.between(0.5, 1.5)))));
    return {
      ...this.envelope(t, 'orders'),
      type: 'commerce.order.completed',
      data: {
        orderId: `${this.id}-o${++this.orders}`,
        amountMinor,
        currency: spend.currency,
        itemCount,
        channel,
        storeId: channel === 'store' ? `store-${1 + this.rng.int(orders.stores)}` : null,
      },
    };
  }

  orderFollowUp(t: number, type: 'commerce.order.refunded' | 'commerce.order.cancelled', order: OrderEvent['data'], amountMinor: number): OrderEvent {
    return { ...this.envelope(t, 'orders'), type, data: { ...order, amountMinor } };
  }

  interaction(
    t: number,
    o: { caseId: string | null; reason: InteractionEvent['data']['reason']; resolution: InteractionEvent['data']['resolution']; complaint: boolean },
  ): InteractionEvent {
    const s = this.params.service;
    const rng = this.rng;
    const h = o.complaint ? this.happiness * s.complaintCsatFactor : this.happiness;
    const csat = rng.chance(s.csatResponse) ? 1 + rng.binomial(4, h) : null;
    const nps = rng.chance(s.npsResponse) ? rng.binomial(10, h) : null;
    const meanHandle = o.reason === 'complaint' ? 900 : 360; // seconds
    return {
      ...this.envelope(t, 'service'),
      type: 'service.interaction.recorded',
      data: {
        interactionId: `${this.id}-i${++this.contacts}`,
        caseId: o.caseId,
        channel: rng.weighted(s.channels),
        reason: o.reason,
        resolution: o.resolution,
        handleTimeSeconds: Math.min(MAX_HANDLE_SECONDS, Math.round(rng.exponential(meanHandle))),
        csat,
        nps,
      },
    };
  }
}
