/**
 * Expected failures of a command (bad arguments, a missing topic, a server that does not
 * answer): printed as one line on stderr with a non-zero exit code, never as a stack trace.
 */
export class CliError extends Error {
  override name = 'CliError';
  /** Process exit code: 1 for a failed operation, 2 for a usage error. */
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}

/** The first line of an error's message, for errors that come from libraries (kafkajs, ioredis). */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
