/**
 * Reads: what a reader (the CLI, the profile API, an export) shows of a stored customer at
 * the instant of the read. A stored state's own asOf stays at its last event or threshold
 * crossing, so deriving at it shows a recency of 0 days weeks after the last order; a read
 * derives at its own instant instead. Memberships are not re-derived: they are what the
 * segment index holds (the stored state's), moved by the segmenter alone, each move with its
 * change event. docs/segmentation.md, "Reads and their instant".
 */
import type { DomainConfig } from './config.ts';
import { type CustomerView, derive } from './derive.ts';
import type { CustomerState, Memberships } from './state.ts';

/** The fields derived at the read's instant: everything of a view but memberships and the rules' bookkeeping. */
export type DerivedFields = Omit<CustomerView, 'asOf' | 'memberships' | 'reasons' | 'csatExpiresAt'>;

export interface CustomerReading {
  readonly customerId: string;
  /** Epoch ms the fields are derived at: the read's instant, or the state's asOf when that is later. */
  readonly at: number;
  /** The state's asOf: the instant its memberships were last evaluated. */
  readonly evaluatedAt: number;
  /** As stored: the segment index's memberships, not re-derived at `at`. */
  readonly memberships: Memberships;
  readonly fields: DerivedFields;
}

/**
 * A stored customer read at `at` (epoch ms): fields derived at `at`, memberships as stored.
 * An instant before the state's asOf reads at the asOf: facts older than the retention
 * horizon behind it are already folded into the lifetime summary, so earlier window figures
 * are not known. `config` should carry the RFM cuts in force (quantile mode: the stored ones).
 */
export function readCustomer(state: CustomerState, at: number, config: DomainConfig): CustomerReading {
  const instant = Math.max(at, state.asOf);
  // What is not a derived field: the instant (returned as `at`), memberships and the rules' bookkeeping.
  const { asOf: _asOf, memberships: _memberships, reasons: _reasons, csatExpiresAt: _lapse, ...fields } = derive(state, instant, config);
  return { customerId: state.customerId, at: instant, evaluatedAt: state.asOf, memberships: state.memberships, fields };
}
