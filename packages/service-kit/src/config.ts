/**
 * The environment of a process, validated once at boot with a zod schema. A bad value stops
 * the process with every offending variable's name, what was expected and what it got, in
 * the one format all services print:
 *
 *   invalid configuration:
 *     KAFKA_BROKERS: must be a comma-separated list of host:port, e.g. 127.0.0.1:19092 (got "localhost")
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { quotableValue } from './secrets.ts';

/** One bad environment variable. */
export interface EnvIssue {
  variable: string;
  message: string;
  /**
   * The value as set, safe to print (`***` for a secret variable, a URL's userinfo masked);
   * undefined when the variable is missing (nothing worth quoting).
   */
  got: string | undefined;
}

/** A configuration the process cannot run with; `runService` exits 78 (EX_CONFIG) on it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The bad variables, when the error comes from `parseEnv`; empty otherwise. */
  readonly issues: readonly EnvIssue[];

  constructor(message: string, options: { issues?: readonly EnvIssue[]; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.issues = options.issues ?? [];
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** `VAR: message (got "value")`, without the value when the variable is missing. */
export function formatEnvIssue(issue: EnvIssue): string {
  return `${issue.variable}: ${issue.message}${issue.got === undefined ? '' : ` (got "${issue.got}")`}`;
}

/** Parses `env` with `schema`; throws a ConfigError naming every bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i): EnvIssue => {
    const value = env[String(i.path[0])];
    const missing = i.code === 'invalid_type' && value === undefined;
    const variable = i.path.join('.');
    return { variable, message: i.message, got: missing ? undefined : quotableValue(variable, `${value}`) };
  });
  throw invalidConfiguration(issues);
}

/** The ConfigError for `issues`, in the format `parseEnv` throws. */
export function invalidConfiguration(issues: readonly EnvIssue[]): ConfigError {
  return new ConfigError(`invalid configuration:\n${issues.map((i) => `  ${formatEnvIssue(i)}`).join('\n')}`, { issues });
}

/**
 * Reads the JSON file a variable points at and validates it with `parse`; throws a
 * ConfigError naming the variable and the file when either step fails.
 */
export function readJsonFile<T>(variable: string, path: string, parse: (raw: unknown) => T): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read JSON from ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parse(raw);
  } catch (err) {
    throw new ConfigError(`${variable} (${path}): ${(err as Error).message}`, { cause: err });
  }
}

/**
 * An integer variable in [min, max], written as plain decimal digits (a leading minus only
 * where min < 0). Number() would also take '1e3', '0x10', '0b1', ' 5' or '5.0'; an operator
 * who typed one of those meant something else, so they are refused.
 */
export const intVar = (min: number, max: number) => {
  const range = `must be a whole number from ${min} to ${max}`;
  return z
    .string({ error: `${range}, in decimal digits` })
    .regex(min < 0 ? /^-?\d+$/ : /^\d+$/, `${range}, in decimal digits${min < 0 ? ' (optionally with a leading -)' : ''}`)
    .transform(Number)
    .pipe(z.number().int().min(min, range).max(max, range));
};

/**
 * A number variable in [min, max], written as plain decimal digits with an optional fraction
 * ('2', '0.5'): no exponents, hex or blanks, for the same reason as intVar.
 */
export const decimalVar = (min: number, max: number) => {
  const range = `must be a number from ${min} to ${max}`;
  return z
    .string({ error: `${range}, in decimal digits` })
    .regex(min < 0 ? /^-?\d+(\.\d+)?$/ : /^\d+(\.\d+)?$/, `${range}, in decimal digits (e.g. 2 or 0.5)`)
    .transform(Number)
    .pipe(z.number().min(min, range).max(max, range));
};

/** KAFKA_BROKERS: required unless made `.optional()`. */
export const kafkaBrokersVar = z
  .string({ error: 'is required: a comma-separated list of host:port, e.g. 127.0.0.1:19092' })
  .regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'must be a comma-separated list of host:port, e.g. 127.0.0.1:19092');

/** REDIS_URL: required unless made `.optional()`. */
export const redisUrlVar = z
  .string({ error: 'is required: a redis:// URL, e.g. redis://127.0.0.1:16379' })
  .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL');

/** CRM_KEY_PREFIX: the prefix of every Redis key of the project. */
export const keyPrefixVar = z
  .string()
  .regex(/^[\w.-]+$/, 'must be letters, digits, _ . or -')
  .default('crm');

/** CRM_TOPIC_SUFFIX: appended to every topic name, so that tests and parallel environments share one broker. */
export const topicSuffixVar = z
  .string()
  .regex(/^[\w.-]*$/, 'must be letters, digits, _ . or -')
  .default('');

/** A pino level. */
export const logLevelVar = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
