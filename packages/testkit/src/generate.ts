/**
 * A seeded, deterministic generator of input events for tests: customers who register,
 * buy at heterogeneous rates, get refunds and cancellations, and contact the service desk.
 * (The richer BG/NBD + gamma-gamma sample-data generator is issue #6's.)
 */
import type { InputEvent, InteractionEvent, OrderEvent, ProfileEvent } from '@crm/contracts';
import { mulberry32 } from '@crm/sample-data';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

export interface GenerateOptions {
  seed: number;
  customers: number;
  events: number;
  /** Event times fall in [start, end] (ms). */
  start: number;
  end: number;
  /** Customer id prefix (isolation between tests sharing topics). */
  prefix?: string;
}

/** `events` events over `customers` customers, in time order. */
export function generateEvents(o: GenerateOptions): InputEvent[] {
  const rnd = mulberry32(o.seed);
  const prefix = o.prefix ?? 'c';
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const out: InputEvent[] = [];
  // Heterogeneous activity: a few customers generate most events (as real purchase rates do).
  const weights = Array.from({ length: o.customers }, () => Math.log(1 - rnd()) ** 2);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) {
    acc += w / total;
    cumulative.push(acc);
  }
  const customerAt = (u: number) => {
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const orders: Array<{ id: string; customer: string; amount: number; at: number }> = [];
  // Event times in order, so that a refund or cancellation can refer to a recent order.
  const times = Array.from({ length: o.events }, () => Math.floor(o.start + rnd() * (o.end - o.start))).sort((a, b) => a - b);
  for (let i = 0; i < o.events; i++) {
    const customer = `${prefix}${customerAt(rnd())}`;
    const at = times[i] as number;
    const time = iso(at);
    const base = { specversion: '1.0' as const, id: `${prefix}-e${o.seed}-${i}`, time, subject: customer };
    const r = rnd();
    if (r < 0.55) {
      const amount = Math.floor(500 + rnd() * 20_000);
      const orderId = `${prefix}-o${o.seed}-${i}`;
      orders.push({ id: orderId, customer, amount, at });
      out.push({
        ...base,
        source: 'urn:test:orders',
        type: 'commerce.order.completed',
        data: { orderId, amountMinor: amount, currency: 'EUR', itemCount: 1 + Math.floor(rnd() * 5), channel: pick(['web', 'store', 'app']), storeId: null },
      } satisfies OrderEvent);
    } else if (r < 0.62 && orders.length > 0 && (orders[orders.length - 1] as { at: number }).at > at - 25 * DAY) {
      // Refunds and cancellations come within 25 days of the order, as they do in practice.
      let first = orders.length - 1;
      while (first > 0 && (orders[first - 1] as { at: number }).at > at - 25 * DAY) first--;
      const order = orders[first + Math.floor(rnd() * (orders.length - first))] as { id: string; customer: string; amount: number };
      const refund = rnd() < 0.5;
      out.push({
        ...base,
        subject: order.customer,
        source: 'urn:test:orders',
        type: refund ? 'commerce.order.refunded' : 'commerce.order.cancelled',
        data: {
          orderId: order.id,
          amountMinor: refund ? Math.floor(order.amount * rnd()) : order.amount,
          currency: 'EUR',
          itemCount: 1,
          channel: 'web',
          storeId: null,
        },
      } satisfies OrderEvent);
    } else if (r < 0.9) {
      const complaint = rnd() < 0.2;
      out.push({
        ...base,
        source: 'urn:test:service',
        type: 'service.interaction.recorded',
        data: {
          interactionId: `${prefix}-i${o.seed}-${i}`,
          caseId: null,
          channel: pick(['phone', 'email', 'chat']),
          reason: complaint ? 'complaint' : pick(['inquiry', 'order_issue', 'billing', 'compliment']),
          resolution: pick(['resolved', 'resolved', 'unresolved', 'pending']),
          handleTimeSeconds: Math.floor(rnd() * 900),
          csat: rnd() < 0.6 ? (complaint ? 1 + Math.floor(rnd() * 3) : 3 + Math.floor(rnd() * 3)) : null,
          nps: rnd() < 0.3 ? Math.floor(rnd() * 11) : null,
        },
      } satisfies InteractionEvent);
    } else {
      const consent = rnd() < 0.5;
      out.push({
        ...base,
        source: 'urn:test:profiles',
        type: consent ? 'customer.consent.changed' : 'customer.registered',
        data: { signupChannel: consent ? null : pick(['web', 'store']), marketingConsent: consent ? rnd() < 0.7 : null },
      } satisfies ProfileEvent);
    }
  }
  return out;
}

export const DAY_MS = DAY;
