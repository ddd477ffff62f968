import { describe, expect, it } from 'vitest';
import { freePorts } from './ports.ts';

describe('freePorts', () => {
  it('gives distinct ports that are free once returned', async () => {
    const ports = await freePorts(32);
    expect(new Set(ports).size).toBe(32);
    for (const p of ports) expect(p).toBeGreaterThan(0);
  });
});
