/**
 * pino for a service, with its PII paths redacted, and kafkajs' own logs routed into it.
 */
import { type LogEntry, logLevel } from 'kafkajs';
import { type Logger, pino } from 'pino';

/** Where customer ids (personal data) appear in event-processing logs: redacted everywhere. */
export const CUSTOMER_ID_PATHS: readonly string[] = ['customerId', 'subject', '*.customerId', '*.subject', 'key', '*.key'];

/**
 * The service's root logger: JSON lines on stdout, `service` bound on every line. Values at
 * `redactPaths` (pino paths: `customerId`, `*.customerId`) are replaced by `[redacted]`.
 */
export function createLogger(service: string, level: string, redactPaths?: readonly string[]): Logger {
  return pino({ level, base: { service }, ...(redactPaths === undefined ? {} : { redact: { paths: [...redactPaths], censor: '[redacted]' } }) });
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs `logCreator` writing to a `module: kafkajs` child of `log`. */
export function kafkaLogCreator(log: Logger) {
  const child = log.child({ module: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry as { message: string; timestamp?: string; logger?: string; [k: string]: unknown };
      child[LEVELS[level] ?? 'info']({ namespace, ...extra }, message);
    };
}
