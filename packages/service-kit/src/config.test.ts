import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decimalVar, formatEnvIssue, intVar, kafkaBrokersVar, logLevelVar, parseEnv, readJsonFile, redisUrlVar } from './config.ts';
import { configError } from './testing.ts';

const Schema = z.object({ KAFKA_BROKERS: kafkaBrokersVar, REDIS_URL: redisUrlVar.optional(), PORT: intVar(0, 65535).default(9464), LOG_LEVEL: logLevelVar });

describe('parseEnv', () => {
  it('returns the parsed values with the defaults', () => {
    expect(parseEnv(Schema, { KAFKA_BROKERS: 'a:1,b:2' })).toEqual({ KAFKA_BROKERS: 'a:1,b:2', PORT: 9464, LOG_LEVEL: 'info' });
  });

  it('names every bad variable, one per line, quoting the value when one was set', () => {
    const err = configError(() => parseEnv(Schema, { REDIS_URL: 'localhost:6379', PORT: 'http', LOG_LEVEL: 'loud' }));
    expect(err.name).toBe('ConfigError');
    expect(err.message.split('\n')).toEqual([
      'invalid configuration:',
      '  KAFKA_BROKERS: is required: a comma-separated list of host:port, e.g. 127.0.0.1:19092',
      '  REDIS_URL: must be a redis:// or rediss:// URL (got "localhost:6379")',
      expect.stringMatching(/^ {2}PORT: .* \(got "http"\)$/),
      expect.stringMatching(/^ {2}LOG_LEVEL: .*info.* \(got "loud"\)$/),
    ]);
    expect(err.issues.map((i) => [i.variable, i.got])).toEqual([
      ['KAFKA_BROKERS', undefined],
      ['REDIS_URL', 'localhost:6379'],
      ['PORT', 'http'],
      ['LOG_LEVEL', 'loud'],
    ]);
  });

  it('formats one issue as the CLI prints it', () => {
    const [issue] = configError(() => parseEnv(Schema, { KAFKA_BROKERS: 'localhost' })).issues;
    expect(issue && formatEnvIssue(issue)).toBe('KAFKA_BROKERS: must be a comma-separated list of host:port, e.g. 127.0.0.1:19092 (got "localhost")');
  });
});

describe('readJsonFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'service-kit-config-'));
  const parse = (raw: unknown) => z.object({ n: z.number() }).parse(raw);

  it('reads and validates the file', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, '{"n": 1}');
    expect(readJsonFile('SOME_FILE', file, parse)).toEqual({ n: 1 });
  });

  it('names the variable and the file when it is missing, not JSON, or invalid', () => {
    expect(() => readJsonFile('SOME_FILE', join(dir, 'missing.json'), parse)).toThrow(/^SOME_FILE: cannot read JSON from .*missing\.json: ENOENT/);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'n = 1');
    expect(() => readJsonFile('SOME_FILE', notJson, parse)).toThrow(/^SOME_FILE: cannot read JSON from .*not\.json: /);
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, '{"n": "one"}');
    expect(configError(() => readJsonFile('SOME_FILE', invalid, parse)).message).toMatch(/^SOME_FILE \(.*invalid\.json\): /);
  });
});

describe('intVar and decimalVar', () => {
  const Ints = z.object({ N: intVar(1, 1024).default(6), D: intVar(-10, 10).optional(), X: decimalVar(0, 365).optional() });
  const parse = (env: Record<string, string>) => parseEnv(Ints, env);

  it('take plain decimal digits, a leading minus only where negatives are allowed', () => {
    expect(parse({})).toEqual({ N: 6 });
    expect(parse({ N: '1024', D: '-10', X: '0.5' })).toEqual({ N: 1024, D: -10, X: 0.5 });
    expect(parse({ N: '007', X: '2' })).toEqual({ N: 7, X: 2 });
  });

  it.each([
    ['N', '1e3'],
    ['N', '0x10'],
    ['N', '0b1'],
    ['N', '0o7'],
    ['N', ' 5'],
    ['N', '5.0'],
    ['N', '+5'],
    ['N', '-1'],
    ['N', ''],
    ['N', '1025'],
    ['N', '0'],
    ['D', '--1'],
    ['D', '-11'],
    ['X', '1e2'],
    ['X', '.5'],
    ['X', 'Infinity'],
    ['X', '366'],
  ])('refuse %s=%j, naming the variable and the expected form', (variable, value) => {
    const err = configError(() => parse({ [variable]: value }));
    expect(err.issues.map((i) => [i.variable, i.got])).toEqual([[variable, value]]);
    expect(err.message).toMatch(new RegExp(`${variable}: must be a (whole )?number from -?\\d+ to \\d+`));
  });
});
