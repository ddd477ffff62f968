import { logSink } from '@crm/testkit';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { kafkaLogCreator, loggerOptions, scrubError } from './logging.ts';
import { registerSecret } from './secrets.ts';

describe('kafkaLogCreator', () => {
  it("writes kafkajs' entries to a kafkajs child at the matching level, without kafkajs' own timestamp and logger name", () => {
    const { logger, lines } = logSink();
    const entry = kafkaLogCreator(logger.child({ service: 'test' }))();
    entry({ namespace: 'Connection', level: logLevel.WARN, label: 'WARN', log: { message: 'broker away', timestamp: 't', logger: 'kafkajs', broker: 'b:1' } });
    entry({ namespace: 'Consumer', level: logLevel.NOTHING, label: 'NOTHING', log: { message: 'odd level', timestamp: 't', logger: 'kafkajs' } });
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, service: 'test', module: 'kafkajs', namespace: 'Connection', broker: 'b:1', msg: 'broker away' }),
      expect.objectContaining({ level: 30, namespace: 'Consumer', msg: 'odd level' }),
    ]);
    expect(lines[0]).not.toHaveProperty('logger');
    expect(lines[0]?.['timestamp']).toBeUndefined();
  });

  it('drops the stack kafkajs attaches to each retry of a connection (the message says what failed)', () => {
    const { logger, lines } = logSink();
    const entry = kafkaLogCreator(logger)();
    entry({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { message: 'Connection error: self-signed certificate', timestamp: 't', logger: 'kafkajs', broker: 'b:1', stack: 'Error: x\n    at TLSSocket' },
    });
    expect(lines).toEqual([expect.objectContaining({ level: 50, broker: 'b:1', msg: 'Connection error: self-signed certificate' })]);
    expect(lines[0]).not.toHaveProperty('stack');
  });
});

describe('secrets in log lines', () => {
  it('masks registered secrets anywhere in a line, and AUTH/HELLO arguments and URL passwords in errors', () => {
    registerSecret('log-secret-1');
    const chunks: string[] = [];
    const log = pino(loggerOptions('info', { service: 'test' }), { write: (s: string) => void chunks.push(s) });
    const reply = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'auth', args: ['app', 'unknown-secret-2'] },
    });
    const hello = Object.assign(new Error('NOAUTH'), { command: { name: 'HELLO', args: ['3', 'AUTH', 'app', 'unknown-secret-3'] } });
    log.error({ err: reply, url: 'x log-secret-1 y' }, 'redis said no to log-secret-1');
    log.warn({ err: hello }, 'again');
    log.info({ err: new Error('cannot reach redis://app:unknown-secret-4@h:1') }, 'no');
    const text = chunks.join('');
    expect(text).not.toMatch(/log-secret-1|unknown-secret-[234]/);
    const [first, second] = chunks.map((c) => JSON.parse(c) as { err: { command: { args: string[] } }; url: string; msg: string });
    expect(first?.err.command.args).toEqual(['***', '***']);
    expect(second?.err.command.args).toEqual(['***', '***', '***', '***']);
    expect(first?.msg).toBe('redis said no to ***');
    expect(first?.url).toBe('x *** y');
  });

  it("replaces other commands' arguments (customer ids, states, scripts) by their count, keeping the command's name", () => {
    expect(scrubError({ command: { name: 'evalsha', args: ['sha', '2', 'crm:{0}:state', 'customer-42'] } })).toEqual({
      command: { name: 'evalsha', args: ['*** 4 argument(s)'] },
    });
  });
});
