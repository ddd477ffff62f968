import { describe, expect, it } from 'vitest';
import { loadScriptSources } from './scripts.ts';

describe('Lua script sources', () => {
  const sources = loadScriptSources();

  it('takes the key count from the file name', () => {
    expect(sources.find((s) => s.name === 'advanceFence')?.numberOfKeys).toBe(1);
  });

  it('inlines includes so that Redis receives one self-contained script', () => {
    for (const s of sources) {
      expect(s.lua).not.toMatch(/--- @include/);
    }
    expect(sources.find((s) => s.name === 'advanceFence')?.lua).toContain('local function checkFence');
  });

  it('starts every script with a header naming its KEYS, ARGV and return codes', () => {
    for (const s of sources) {
      expect(s.lua.trimStart().startsWith('--[[')).toBe(true);
      expect(s.lua).toMatch(/KEYS\[1\]/);
      expect(s.lua).toMatch(/Returns/);
    }
  });
});
