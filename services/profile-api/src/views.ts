/**
 * The customer resource: the stored state and what the domain derives from it (`describe`),
 * shaped for clients: epoch-ms instants become ISO-8601 strings, internal fields (timer
 * candidates, tie-break hashes) stay out.
 */
import { type DomainConfig, describe } from '@crm/domain';
import type { StoredCustomer } from './reads.ts';
import type { Customer } from './schemas.ts';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function customerView(stored: StoredCustomer, domain: DomainConfig, recentChanges: Customer['recentChanges']): Customer {
  const { state: s } = stored;
  const config = stored.cuts === null ? domain : { ...domain, rfm: { ...domain.rfm, cuts: stored.cuts } };
  const v = describe(s, config);
  return {
    customerId: s.customerId,
    partition: stored.partition,
    version: stored.version,
    asOf: iso(s.asOf),
    memberships: { ...s.memberships, custom: [...s.memberships.custom] },
    reasons: { ...v.reasons },
    derived: {
      recencyDays: v.recencyDays,
      tenureDays: v.tenureDays,
      frequency: v.frequency,
      monetaryMinor: v.monetaryMinor,
      r: v.r,
      f: v.f,
      m: v.m,
      lifetimeOrders: v.lifetimeOrders,
      lifetimeNetMinor: v.lifetimeNetMinor,
      points: v.points,
      csatAvg: v.csatAvg,
      npsClass: v.npsClass,
      openComplaints: v.openComplaints,
      marketingConsent: v.marketingConsent,
      registered: v.registered,
      firstPurchaseAt: isoOrNull(v.firstPurchaseAt),
      lastPurchaseAt: isoOrNull(v.lastPurchaseAt),
      previousPurchaseAt: isoOrNull(v.previousPurchaseAt),
    },
    facts: {
      registeredAt: isoOrNull(s.registeredAt),
      seenAt: isoOrNull(s.seenAt),
      erasedAt: isoOrNull(s.erasedAt),
      consent: s.consent === null ? null : { value: s.consent.value, at: iso(s.consent.t) },
      nps: s.nps === null ? null : { value: s.nps.value, at: iso(s.nps.t) },
      pastOrders: s.past === null ? null : { count: s.past.count, netMinor: s.past.netMinor, firstAt: iso(s.past.first), lastAt: iso(s.past.last) },
      orders: s.orders.map((o) => ({
        key: o.key,
        completedAt: isoOrNull(o.completed?.t ?? null),
        amountMinor: o.completed?.amountMinor ?? null,
        refundedMinor: o.refund?.amountMinor ?? null,
        refundedAt: isoOrNull(o.refund?.t ?? null),
        cancelledAt: isoOrNull(o.cancelledAt),
      })),
      interactions: s.interactions.map((i) => ({
        key: i.key,
        at: iso(i.t),
        csat: i.csat,
        complaint: i.complaint,
        resolved: i.resolved,
        caseKey: i.caseKey,
      })),
    },
    recentChanges,
  };
}
