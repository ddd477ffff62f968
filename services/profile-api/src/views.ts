/**
 * The customer resource and the items of the customer list: the stored state read at the
 * request's instant (readCustomer: derived fields at that instant, memberships as the segment
 * index holds them), shaped for clients: epoch-ms instants become ISO-8601 strings, internal
 * fields (timer candidates, tie-break hashes) stay out.
 */
import type { CustomerReading, CustomerView } from '@crm/domain';
import type { AtSource } from './instant.ts';
import type { StoredCustomer } from './reads.ts';
import type { Customer, CustomerItem } from './schemas.ts';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** A reading's derived fields, instants as ISO-8601. */
function derivedView(f: CustomerReading['fields']): Customer['derived'] {
  return {
    ...f,
    firstPurchaseAt: isoOrNull(f.firstPurchaseAt),
    lastPurchaseAt: isoOrNull(f.lastPurchaseAt),
    previousPurchaseAt: isoOrNull(f.previousPurchaseAt),
  };
}

/** One customer of the list: what a read at the instant shows, without facts and history. */
export function customerItem(stored: StoredCustomer, reading: CustomerReading, atSource: AtSource): CustomerItem {
  return {
    customerId: reading.customerId,
    partition: stored.partition,
    version: stored.version,
    at: iso(reading.at),
    atSource,
    asOf: iso(reading.evaluatedAt),
    memberships: { ...reading.memberships, custom: [...reading.memberships.custom] },
    derived: derivedView(reading.fields),
  };
}

/**
 * The customer resource: the list's item, the rules behind the stored memberships (`reasons`,
 * as of their evaluation at asOf), the facts and the recent changes.
 */
export function customerView(
  stored: StoredCustomer,
  reading: CustomerReading,
  atSource: AtSource,
  reasons: CustomerView['reasons'],
  recentChanges: Customer['recentChanges'],
): Customer {
  const { state: s } = stored;
  const { memberships, derived, ...item } = customerItem(stored, reading, atSource);
  return {
    ...item,
    memberships,
    reasons: { ...reasons },
    derived,
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
