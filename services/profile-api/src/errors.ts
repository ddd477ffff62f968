/**
 * The API's error answers: every non-2xx JSON body is `{error, message, details?}`
 * (schemas.ts `ErrorBody`), raised as an ApiError and rendered in one place (app.ts).
 */
import type { ErrorBody } from './schemas.ts';

type Code = ErrorBody['error'];

const STATUS: Record<Code, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: Code;
  readonly details: ErrorBody['details'];
  /** Response headers that go with the error (Retry-After of a 429). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: Code, message: string, details?: ErrorBody['details'], headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  get status(): number {
    return STATUS[this.code];
  }

  body(): ErrorBody {
    return { error: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}
