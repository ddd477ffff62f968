import { describe, expect, it } from 'vitest';
import { judgePartition, judgeTopic } from './fence-audit.ts';

const facts = (fence: string | null, committed: string | null, logStart = '0', emitted = committed) => ({
  topic: 'orders',
  fence,
  committed,
  emitted,
  logStart,
});

describe('the fence audit', () => {
  it('starts from the fence when it holds at least what was committed', () => {
    expect(judgeTopic(facts('120', '100'), 'reapply')).toEqual({ kind: 'start', topic: 'orders', from: '120' });
    expect(judgeTopic(facts('100', '100'), 'stop')).toEqual({ kind: 'start', topic: 'orders', from: '100' });
    // A fence without a committed offset (offsets expired, another group id): the fence is the truth.
    expect(judgeTopic(facts('7', null), 'reapply')).toEqual({ kind: 'start', topic: 'orders', from: '7' });
  });

  it('starts a topic never applied nor committed at the log start', () => {
    expect(judgeTopic(facts(null, null, '40'), 'stop')).toEqual({ kind: 'start', topic: 'orders', from: '40' });
    expect(judgeTopic(facts(null, '0', '0'), 'stop')).toEqual({ kind: 'start', topic: 'orders', from: '0' });
  });

  it('re-applies from a fence behind the committed offset while the log still holds the records', () => {
    expect(judgeTopic(facts('1296', '1521', '1000'), 'reapply')).toEqual({
      kind: 'reapply',
      topic: 'orders',
      from: '1296',
      silentUntil: '1521',
      fence: '1296',
      committed: '1521',
    });
  });

  it('re-applies a missing fence from offset 0 only when nothing was deleted from the log', () => {
    expect(judgeTopic(facts(null, '500', '0'), 'reapply')).toMatchObject({ kind: 'reapply', from: '0', silentUntil: '500', fence: null });
    expect(judgeTopic(facts(null, '500', '20'), 'reapply')).toMatchObject({ kind: 'hold', reason: 'log_truncated', logStart: '20' });
  });

  it('holds when the records needed were deleted, or when the policy is stop', () => {
    expect(judgeTopic(facts('100', '300', '150'), 'reapply')).toMatchObject({ kind: 'hold', reason: 'log_truncated' });
    expect(judgeTopic(facts('100', '300', '0'), 'stop')).toMatchObject({ kind: 'hold', reason: 'policy', fence: '100', committed: '300' });
  });

  it('re-applies silently only what is known to have been emitted', () => {
    // This member saw fence 900 but relayed only up to 700; Kafka holds 600.
    expect(judgeTopic(facts('400', '900', '0', '700'), 'reapply')).toMatchObject({ kind: 'reapply', from: '400', silentUntil: '700' });
    expect(judgeTopic(facts('400', '900', '0', '300'), 'reapply')).toMatchObject({ kind: 'reapply', from: '400', silentUntil: null });
  });

  it('compares 64-bit offsets exactly', () => {
    expect(judgeTopic(facts('9007199254740992', '9007199254740993'), 'reapply')).toMatchObject({ kind: 'reapply' });
  });

  it('holds the whole partition when one of its topics must be held', () => {
    const verdict = judgePartition(
      [
        { topic: 'orders', fence: '10', committed: '10', emitted: '10', logStart: '0' },
        { topic: 'profiles', fence: '3', committed: '9', emitted: '9', logStart: '5' },
      ],
      'reapply',
    );
    expect(verdict.held).toBe(true);
    expect(verdict.topics.map((v) => v.kind)).toEqual(['start', 'hold']);
  });
});
