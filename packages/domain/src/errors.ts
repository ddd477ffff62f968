/**
 * Typed errors of the domain. They carry a machine-readable code and, for validation
 * failures, the path of the bad node so callers can point the operator at it.
 */

export interface DomainIssue {
  /** Dotted path with array indexes, e.g. `segments[2].rule.all[1].op`. */
  readonly path: string;
  readonly message: string;
}

/** Base class: never retriable (the domain is pure; retrying the same input fails the same way). */
export class DomainError extends Error {
  readonly code: string;
  readonly retriable = false;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DomainError';
    this.code = code;
  }
}

/** A DomainConfig (or a user-defined segment) failed validation. */
export class ConfigError extends DomainError {
  readonly issues: readonly DomainIssue[];
  constructor(issues: readonly DomainIssue[]) {
    super('invalid_config', `invalid domain config: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
  /** Path of the first bad node. */
  get path(): string {
    return this.issues[0]?.path ?? '';
  }
}

/** A stored state string could not be decoded (corrupt, truncated or from an unknown version). */
export class StateDecodeError extends DomainError {
  readonly issues: readonly DomainIssue[];
  constructor(message: string, issues: readonly DomainIssue[] = [], options?: { cause?: unknown }) {
    super('corrupt_state', message, options);
    this.name = 'StateDecodeError';
    this.issues = issues;
  }
}

/** An event was applied to the state of another customer. */
export class CustomerMismatchError extends DomainError {
  readonly stateCustomerId: string;
  readonly eventCustomerId: string;
  constructor(stateCustomerId: string, eventCustomerId: string) {
    super('customer_mismatch', `event for customer ${eventCustomerId} applied to the state of ${stateCustomerId}`);
    this.name = 'CustomerMismatchError';
    this.stateCustomerId = stateCustomerId;
    this.eventCustomerId = eventCustomerId;
  }
}

/** Formats a zod-style path (['segments', 2, 'rule']) as `segments[2].rule`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}
