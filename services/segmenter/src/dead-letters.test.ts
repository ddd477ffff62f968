import { describe, expect, it } from 'vitest';
import { chunkByBytes } from './dead-letters.ts';

const m = (key: number, value: number) => ({ key: Buffer.alloc(key), value: Buffer.alloc(value) });

describe('chunkByBytes', () => {
  it('keeps order and puts at most maxBytes of keys and values in a chunk', () => {
    const messages = [m(1, 9), m(0, 10), m(5, 5), m(0, 1)];
    expect(chunkByBytes(messages, 20).map((c) => c.map((x) => messages.indexOf(x)))).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('sends a message larger than the bound alone, never an empty chunk', () => {
    const messages = [m(0, 3), m(0, 50), m(0, 3)];
    expect(chunkByBytes(messages, 10).map((c) => c.length)).toEqual([1, 1, 1]);
    expect(chunkByBytes([], 10)).toEqual([]);
    expect(chunkByBytes([{ key: null, value: null }], 0)).toHaveLength(1);
  });
});
