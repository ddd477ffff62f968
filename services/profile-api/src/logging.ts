/**
 * What the profile API logs, and what it never does. Request logs are written by the app
 * itself (one line per response, with the route pattern, not the URL, which carries customer
 * ids), so no request URL, header or token reaches the logs. Errors of a request are logged as
 * a summary without their message (errorSummary): the messages of errors about stored data
 * quote that data, and a customer's record holds its id.
 */

/** Customer ids are personal data; credentials never belong in logs. */
export const REDACT = ['customerId', '*.customerId', 'id', 'params', '*.params', 'url', '*.url', 'headers', '*.headers', 'authorization', '*.authorization'];

export interface ErrorSummary {
  /** The error's class name (`StateDecodeError`, `ReplyError`, `TypeError`…). */
  type: string;
  /** Its machine-readable code, when it has one (`corrupt_state`, `ECONNRESET`…). */
  code?: string;
  /** Where it was thrown: the stack's frames, without the message line. */
  stack: string[];
}

/**
 * An error as a request's log line may carry it: class, code and stack frames. Not the message,
 * not the other properties: a StateDecodeError's message quotes the corrupt record, which
 * holds the customer id, and an ioredis ReplyError carries its command's arguments (keys and
 * customer ids). The frames locate the fault; the request id ties the line to the request.
 */
export function errorSummary(err: unknown): ErrorSummary {
  if (!(err instanceof Error)) return { type: typeof err, stack: [] };
  const code = (err as { code?: unknown }).code;
  // The frames follow the message; a message can span lines, so cut after it, not by line.
  const stack = err.stack ?? '';
  const at = stack.indexOf(err.message);
  const frames = at < 0 ? '' : stack.slice(at + err.message.length);
  return {
    type: err.name,
    ...(typeof code === 'string' ? { code } : {}),
    stack: frames
      .split('\n')
      .filter((l) => /^\s+at /.test(l))
      .map((l) => l.trim()),
  };
}
