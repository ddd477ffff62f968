import { EVENT_SCHEMAS, type InputEvent, type InteractionEvent, type OrderEvent, topicOfType } from '@crm/contracts';
import { describe, expect, it } from 'vitest';
import { expectedOrderValue, expectedRepeatPurchases } from './bgnbd.ts';
import { generate, streamEvents } from './generate.ts';
import { SampleDataParamsError, defaultSampleDataParams, parseSampleDataParams } from './params.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const ms = (e: InputEvent) => Date.parse(e.time);
const isOrder = (e: InputEvent): e is OrderEvent => e.type.startsWith('commerce.');
const isContact = (e: InputEvent): e is InteractionEvent => e.type === 'service.interaction.recorded';

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}
/** Standard error of the mean. */
function stderr(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1) / xs.length);
}
function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

// One large sample shared by the statistical checks (~40k events, a fraction of a second).
const large = generate({ seed: 7, customers: 12_000, days: 800, acquisitionDays: 400 });
const bySubject = groupBy(large, (e) => e.subject);

describe('streamEvents / generate', () => {
  it('produces only events that satisfy their topic contract', () => {
    const events = [...generate({ seed: 3, customers: 3_000, days: 365 }), ...large];
    const types = new Set<string>();
    for (const e of events) {
      const topic = topicOfType(e.type);
      expect(topic, e.type).toBeDefined();
      const parsed = EVENT_SCHEMAS[topic as keyof typeof EVENT_SCHEMAS].safeParse(e);
      if (!parsed.success) throw new Error(`${e.id} (${e.type}) breaks its contract: ${parsed.error.message}`);
      types.add(e.type);
    }
    // Every kind of event the story tells occurs.
    expect([...types].sort()).toEqual([
      'commerce.order.cancelled',
      'commerce.order.completed',
      'commerce.order.refunded',
      'customer.consent.changed',
      'customer.erasure.requested',
      'customer.registered',
      'service.interaction.recorded',
    ]);
  });

  it('is deterministic: the same parameters give the same events, another seed others', () => {
    const a = generate({ seed: 42, customers: 500 });
    const b = generate({ seed: 42, customers: 500 });
    expect(b).toEqual(a);
    const c = generate({ seed: 43, customers: 500 });
    expect(c.map((e) => e.time)).not.toEqual(a.map((e) => e.time));
  });

  it('yields events in event-time order, inside the period, with unique ids', () => {
    const p = parseSampleDataParams({ seed: 7, customers: 12_000, days: 800, acquisitionDays: 400 });
    const times = large.map(ms);
    const outOfOrder = times.findIndex((t, i) => i > 0 && t < (times[i - 1] as number));
    expect(outOfOrder).toBe(-1);
    expect(times[0] as number).toBeGreaterThanOrEqual(p.start);
    expect(times[times.length - 1] as number).toBeLessThanOrEqual(p.start + p.days * DAY);
    expect(new Set(large.map((e) => e.id)).size).toBe(large.length);
  });

  it('streams lazily: the first events of ten million customers come at once', () => {
    const first: InputEvent[] = [];
    for (const e of streamEvents({ customers: 10_000_000, days: 3650 })) {
      first.push(e);
      if (first.length === 100) break;
    }
    expect(first).toHaveLength(100);
    expect(first.every((e) => e.type === 'customer.registered' || e.type === 'customer.consent.changed' || e.type.startsWith('commerce.'))).toBe(true);
  });

  it('repeat purchases match the BG/NBD expectation E[X(52 weeks)]', () => {
    const p = parseSampleDataParams({ seed: 7, customers: 12_000, days: 800, acquisitionDays: 400 });
    const end = p.start + p.days * DAY;
    const t = 52; // weeks (the model's time unit)
    const repeats: number[] = [];
    for (const events of bySubject.values()) {
      const completed = events.filter((e) => e.type === 'commerce.order.completed').map(ms);
      const first = completed[0];
      if (first === undefined || first + t * WEEK > end) continue;
      repeats.push(completed.filter((x) => x > first && x <= first + t * WEEK).length);
    }
    expect(repeats.length).toBeGreaterThan(5_000);
    const expected = expectedRepeatPurchases(p.purchase, t);
    // About 1.4 repeat purchases in the first year for the CDNOW fit.
    expect(expected).toBeGreaterThan(1);
    expect(expected).toBeLessThan(2);
    expect(Math.abs(mean(repeats) - expected)).toBeLessThan(4 * stderr(repeats));
  });

  it('purchases are concentrated: the top 20% of buyers place most orders', () => {
    const counts = [...bySubject.values()].map((es) => es.filter((e) => e.type === 'commerce.order.completed').length).filter((n) => n > 0);
    counts.sort((a, b) => b - a);
    const top = counts.slice(0, Math.ceil(counts.length / 5)).reduce((s, n) => s + n, 0);
    expect(top / counts.reduce((s, n) => s + n, 0)).toBeGreaterThan(0.5);
  });

  it('order values match the gamma-gamma mean p·γ/(q − 1)', () => {
    const amounts = large.filter((e) => e.type === 'commerce.order.completed').map((e) => (e as OrderEvent).data.amountMinor / 100);
    const expected = expectedOrderValue(defaultSampleDataParams.spend);
    expect(expected).toBeCloseTo(35.22, 1);
    expect(Math.abs(mean(amounts) - expected)).toBeLessThan(4 * stderr(amounts));
  });

  it('has registrations that never buy, about the configured share', () => {
    let registered = 0;
    let neverBought = 0;
    for (const events of bySubject.values()) {
      if (!events.some((e) => e.type === 'customer.registered')) continue;
      registered++;
      if (!events.some((e) => e.type === 'commerce.order.completed')) neverBought++;
    }
    // Buyers whose first purchase falls after the period also look like never-buyers: a little above 30%.
    expect(neverBought / registered).toBeGreaterThan(0.28);
    expect(neverBought / registered).toBeLessThan(0.36);
  });

  it('refunds and cancellations follow their own orders within days', () => {
    const p = defaultSampleDataParams.orders;
    const completed = new Map<string, OrderEvent>();
    let followUps = 0;
    for (const e of large) {
      if (!isOrder(e)) continue;
      if (e.type === 'commerce.order.completed') {
        completed.set(e.data.orderId, e);
        continue;
      }
      followUps++;
      const order = completed.get(e.data.orderId);
      expect(order, `${e.type} ${e.data.orderId} has no earlier completion`).toBeDefined();
      const o = order as OrderEvent;
      expect(e.subject).toBe(o.subject);
      expect(e.data.amountMinor).toBeLessThanOrEqual(o.data.amountMinor);
      expect(e.data.amountMinor).toBeGreaterThan(0);
      const lag = ms(e) - ms(o);
      expect(lag).toBeGreaterThan(0);
      expect(lag).toBeLessThanOrEqual((e.type === 'commerce.order.refunded' ? p.refundMaxDays : p.cancelMaxDays) * DAY);
    }
    const share = followUps / completed.size;
    expect(share).toBeGreaterThan((p.refundProbability + p.cancelProbability) * 0.8);
    expect(share).toBeLessThan((p.refundProbability + p.cancelProbability) * 1.2);
  });

  it('complaints come from unhappy customers and carry low CSAT', () => {
    const contacts = large.filter(isContact);
    const opening = contacts.filter((e) => e.data.caseId === null);
    const complaints = opening.filter((e) => e.data.reason === 'complaint');
    const others = opening.filter((e) => e.data.reason !== 'complaint');
    expect(complaints.length).toBeGreaterThan(100);
    const csat = (xs: InteractionEvent[]) => xs.map((e) => e.data.csat).filter((x): x is number => x !== null);
    // Complaints are rated far lower than other contacts.
    expect(mean(csat(complaints))).toBeLessThan(mean(csat(others)) - 1);
    // Customers who complain rate their other contacts lower too: complaints follow latent dissatisfaction.
    const complainers = new Set(complaints.map((e) => e.subject));
    const ofComplainers = csat(others.filter((e) => complainers.has(e.subject)));
    const ofTheRest = csat(others.filter((e) => !complainers.has(e.subject)));
    expect(mean(ofComplainers)).toBeLessThan(mean(ofTheRest) - 0.3);
    // Most cases get a later follow-up on the same case, mostly resolving it.
    const followUps = contacts.filter((e) => e.data.caseId !== null);
    const opened = new Map(complaints.map((e) => [e.data.interactionId, e]));
    for (const f of followUps) {
      const origin = opened.get(f.data.caseId as string);
      expect(origin).toBeDefined();
      expect(ms(f)).toBeGreaterThan(ms(origin as InteractionEvent));
    }
    expect(followUps.length / complaints.length).toBeGreaterThan(0.9);
    expect(followUps.filter((f) => f.data.resolution === 'resolved').length / followUps.length).toBeGreaterThan(0.7);
  });
});

describe('parameters', () => {
  it('default to the CDNOW fits', () => {
    expect(defaultSampleDataParams.purchase).toMatchObject({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, timeUnitDays: 7 });
    expect(defaultSampleDataParams.spend).toMatchObject({ p: 6.25, q: 3.74, gamma: 15.44 });
    expect(parseSampleDataParams({ start: '2020-02-29T00:00:00Z' }).start).toBe(Date.UTC(2020, 1, 29));
  });

  it('name each bad field', () => {
    const bad = () => parseSampleDataParams({ spend: { q: 0.9 }, orders: { refundProbability: 2 }, start: '2020-02-30T00:00:00Z' });
    expect(bad).toThrow(SampleDataParamsError);
    try {
      bad();
    } catch (err) {
      const paths = (err as SampleDataParamsError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['orders.refundProbability', 'start']));
    }
    expect(() => parseSampleDataParams({ spend: { q: 0.9 } })).toThrow(/spend\.q: must be greater than 1/);
    expect(() => parseSampleDataParams({ days: 10, acquisitionDays: 20 })).toThrow(/acquisitionDays/);
    expect(() => parseSampleDataParams({ purchase: { rr: 1 } } as never)).toThrow(/purchase/);
  });
});
