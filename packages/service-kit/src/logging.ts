/**
 * pino for a service, with its PII paths redacted, secrets masked, and kafkajs' own logs
 * routed into it.
 *
 * Secrets are kept out two ways: every serialized line passes through `redactSecrets` (the
 * passwords the configuration read, URL passwords) before it reaches the stream, and errors
 * are serialized with `scrubError`, which also blanks what a library copies from a request
 * into its error (ioredis' AUTH and HELLO arguments), known secret or not.
 */
import { type LogEntry, logLevel } from 'kafkajs';
import { type DestinationStream, type Logger, type LoggerOptions, pino, stdSerializers } from 'pino';
import { MASK, maskUrlPasswords, redactSecrets } from './secrets.ts';

/** Where customer ids (personal data) appear in event-processing logs: redacted everywhere. */
export const CUSTOMER_ID_PATHS: readonly string[] = ['customerId', 'subject', '*.customerId', '*.subject', 'key', '*.key'];

/**
 * The service's root logger: JSON lines on stdout, `service` bound on every line. Values at
 * `redactPaths` (pino paths: `customerId`, `*.customerId`) are replaced by `[redacted]`.
 */
export function createLogger(service: string, level: string, redactPaths?: readonly string[], destination?: DestinationStream): Logger {
  return pino(loggerOptions(level, { service }, redactPaths), ...(destination === undefined ? [] : [destination]));
}

/** The options of `createLogger`, for a logger with other bindings or its own destination. */
export function loggerOptions(level: string, base: Record<string, unknown>, redactPaths?: readonly string[]): LoggerOptions {
  return {
    level,
    base,
    serializers: { err: (err: Error) => scrubError(stdSerializers.err(err)) },
    hooks: { streamWrite: redactSecrets },
    ...(redactPaths === undefined ? {} : { redact: { paths: [...redactPaths], censor: '[redacted]' } }),
  };
}

/** Redis commands whose arguments carry credentials. */
const CREDENTIAL_COMMANDS = new Set(['auth', 'hello']);

/**
 * `value` (a serialized error, kafkajs' log fields) with credentials and personal data blanked:
 * the arguments of the Redis command ioredis puts on its ReplyError (AUTH's and HELLO's hold
 * credentials, each masked; any other's hold customer ids, states and whole Lua scripts, replaced
 * by their count) and the password of any URL. The command's name stays: it says what failed.
 * Depth-bounded; cycles are cut by pino's serializer before this runs.
 */
export function scrubError<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return maskUrlPasswords(value) as T;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubError(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  const command = value as { name?: unknown; args?: unknown };
  const redisCommand = typeof command.name === 'string' && Array.isArray(command.args);
  for (const [k, v] of Object.entries(value))
    out[k] = redisCommand && k === 'args' ? blankArgs(command.name as string, v as unknown[]) : scrubError(v, depth + 1);
  return out as T;
}

function blankArgs(name: string, args: unknown[]): string[] {
  return CREDENTIAL_COMMANDS.has(name.toLowerCase()) ? args.map(() => MASK) : [`${MASK} ${args.length} argument(s)`];
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
      // No `stack`: kafkajs logs each retry's socket error with Node's internals; the message says what failed.
      const {
        message,
        timestamp: _t,
        logger: _l,
        stack: _s,
        ...extra
      } = entry as { message: string; timestamp?: string; logger?: string; [k: string]: unknown };
      child[LEVELS[level] ?? 'info']({ namespace, ...scrubError(extra) }, maskUrlPasswords(message));
    };
}
