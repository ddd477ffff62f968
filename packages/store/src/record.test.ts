/** A customer's record `<version>|<history>|<state>`: the history ends at the second '|', whatever the state holds. */
import { describe, expect, it } from 'vitest';
import { parseCustomerRecord, parseStateRecord } from './record.ts';

describe('customer record', () => {
  it('splits version, history and state', () => {
    expect(parseCustomerRecord('12|q1,t/0,1,2|1|abc|x|y')).toEqual({ version: 12, history: 'q1,t/0,1,2', state: '1|abc|x|y' });
    expect(parseCustomerRecord('3||1|abc|')).toEqual({ version: 3, history: null, state: '1|abc|' });
    expect(parseStateRecord('12|q1,t/0,1,2|1|abc')).toEqual({ version: 12, state: '1|abc' });
  });

  it('reads no record as version 0, no state and no history', () => {
    expect(parseCustomerRecord(null)).toEqual({ version: 0, state: null, history: null });
    expect(parseStateRecord(null)).toEqual({ version: 0, state: null });
  });

  it('refuses a record without the prefix', () => {
    expect(() => parseCustomerRecord('1')).toThrow(/corrupt customer record/);
    expect(() => parseCustomerRecord('x|h|s')).toThrow(/corrupt customer record/);
    expect(() => parseCustomerRecord('|h|s')).toThrow(/corrupt customer record/);
    expect(() => parseCustomerRecord('2|no second bar')).toThrow(/corrupt customer record/);
  });
});
