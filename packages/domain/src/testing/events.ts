/**
 * Builders of valid input events for the domain's tests (not part of the public API).
 * Times are epoch ms; ids default to something unique and readable.
 */
import type { InteractionEvent, InteractionReason, OrderEvent, OrderType, ProfileEvent, ProfileType, Resolution } from '@crm/contracts';
import { DAY_MS } from '../time.ts';

export const CUSTOMER = 'cust-0001';
/** 2024-01-01T00:00:00Z: the start of every story. */
export const T0 = Date.UTC(2024, 0, 1);
export const day = (n: number): number => T0 + n * DAY_MS;

let seq = 0;
const nextId = (prefix: string): string => `${prefix}-${(++seq).toString().padStart(6, '0')}`;
const iso = (ms: number): string => new Date(ms).toISOString();

export interface OrderOpts {
  readonly orderId: string;
  readonly at: number;
  readonly amountMinor?: number;
  readonly id?: string;
  readonly customer?: string;
}

export function orderEvent(type: OrderType, o: OrderOpts): OrderEvent {
  return {
    specversion: '1.0',
    id: o.id ?? nextId('evt'),
    source: 'test/orders',
    type,
    time: iso(o.at),
    subject: o.customer ?? CUSTOMER,
    data: { orderId: o.orderId, amountMinor: o.amountMinor ?? 10_000, currency: 'EUR', itemCount: 1, channel: 'web', storeId: null },
  };
}
export const completed = (o: OrderOpts): OrderEvent => orderEvent('commerce.order.completed', o);
export const refunded = (o: OrderOpts): OrderEvent => orderEvent('commerce.order.refunded', o);
export const cancelled = (o: OrderOpts): OrderEvent => orderEvent('commerce.order.cancelled', o);

export interface InteractionOpts {
  readonly at: number;
  readonly interactionId?: string;
  readonly caseId?: string | null;
  readonly reason?: InteractionReason;
  readonly resolution?: Resolution;
  readonly csat?: number | null;
  readonly nps?: number | null;
  readonly id?: string;
  readonly customer?: string;
}

export function interaction(o: InteractionOpts): InteractionEvent {
  return {
    specversion: '1.0',
    id: o.id ?? nextId('evt'),
    source: 'test/desk',
    type: 'service.interaction.recorded',
    time: iso(o.at),
    subject: o.customer ?? CUSTOMER,
    data: {
      interactionId: o.interactionId ?? nextId('int'),
      caseId: o.caseId ?? null,
      channel: 'phone',
      reason: o.reason ?? 'inquiry',
      resolution: o.resolution ?? 'resolved',
      handleTimeSeconds: 120,
      csat: o.csat ?? null,
      nps: o.nps ?? null,
    },
  };
}

export function profileEvent(type: ProfileType, at: number, opts: { consent?: boolean; id?: string; customer?: string } = {}): ProfileEvent {
  return {
    specversion: '1.0',
    id: opts.id ?? nextId('evt'),
    source: 'test/profiles',
    type,
    time: iso(at),
    subject: opts.customer ?? CUSTOMER,
    data: {
      signupChannel: type === 'customer.registered' ? 'web' : null,
      marketingConsent: type === 'customer.consent.changed' ? (opts.consent ?? true) : null,
    },
  };
}
export const registered = (at: number, opts: { id?: string } = {}): ProfileEvent => profileEvent('customer.registered', at, opts);
export const consent = (at: number, value: boolean, opts: { id?: string } = {}): ProfileEvent =>
  profileEvent('customer.consent.changed', at, { ...opts, consent: value });
export const erasure = (at: number, opts: { id?: string } = {}): ProfileEvent => profileEvent('customer.erasure.requested', at, opts);
