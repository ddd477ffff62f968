/**
 * pino for the service, and kafkajs' own logs routed into it.
 */
import { type LogEntry, logLevel } from 'kafkajs';
import { type Logger, pino } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'lag-monitor' } });
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function kafkaLogCreator(log: Logger) {
  const child = log.child({ module: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry as { message: string; timestamp?: string; logger?: string; [k: string]: unknown };
      child[LEVELS[level] ?? 'info']({ namespace, ...extra }, message);
    };
}
