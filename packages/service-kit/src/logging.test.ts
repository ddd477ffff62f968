import { logSink } from '@crm/testkit';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogCreator } from './logging.ts';

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
});
