import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

/** A logger that writes nothing, for code under test that needs one. */
export const silentLogger: Logger = pino({ level: 'silent' });

export interface LogSink {
  logger: Logger;
  /** Every JSON line written so far, parsed. */
  lines: Array<Record<string, unknown>>;
}

/** A logger whose JSON lines are kept for assertions. */
export function logSink(level = 'debug'): LogSink {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
