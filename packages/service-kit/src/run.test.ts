/**
 * runService as operators see it: a real child process (run.fixture.ts), real signals, and
 * its exit code and log lines.
 */
import { fileURLToPath } from 'node:url';
import { type NodeProcess, logLine, spawnNode } from '@crm/testkit';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./run.fixture.ts', import.meta.url));
const run = (env: Record<string, string>) => spawnNode(FIXTURE, env);

/**
 * The messages logged. pino writes asynchronously and flushes what is buffered on exit, so
 * a line still in flight at process.exit() can land after the ones flushed: order is not
 * asserted across an exit.
 */
const messages = (r: NodeProcess) => r.lines.map((l) => l['msg']);

describe('runService', () => {
  it('exits 78 on a bad configuration, naming the variable on stderr before any log', async () => {
    const r = run({ FIXTURE_STOP: 'maybe' });
    expect(await r.exited).toBe(78);
    expect(r.stderr()).toMatch(/^fixture: invalid configuration:\n {2}FIXTURE_STOP: .* \(got "maybe"\)\n$/);
    expect(r.lines).toEqual([]);
  });

  it('exits 1 when start fails, with the fatal message and the error', async () => {
    const r = run({ FIXTURE_START: 'fail' });
    expect(await r.exited).toBe(1);
    expect(r.lines).toEqual([
      expect.objectContaining({ level: 60, msg: 'fixture failed to start', err: expect.objectContaining({ message: 'cannot connect' }) }),
    ]);
  });

  it('exits 78 when start fails on a ConfigError, logging its message', async () => {
    const r = run({ FIXTURE_START: 'config' });
    expect(await r.exited).toBe(78);
    expect(r.lines).toEqual([expect.objectContaining({ level: 60, msg: 'FIXTURE_TOPICS: not co-partitioned' })]);
  });

  it('logs with the service name and redacts the given paths', async () => {
    const r = run({});
    expect(await logLine(r, 'started')).toMatchObject({ service: 'fixture', customerId: '[redacted]' });
    r.child.kill('SIGTERM');
    await r.exited;
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops gracefully on %s: exit 0', async (signal) => {
    const r = run({});
    await logLine(r, 'started');
    r.child.kill(signal);
    expect(await r.exited).toBe(0);
    expect(r.lines).toContainEqual(expect.objectContaining({ level: 30, msg: 'stopping', signal }));
  });

  it('exits 1 when the stop fails', async () => {
    const r = run({ FIXTURE_STOP: 'fail' });
    await logLine(r, 'started');
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(1);
    expect(r.lines).toContainEqual(expect.objectContaining({ level: 50, msg: 'stop failed', err: expect.objectContaining({ message: 'cannot flush' }) }));
  });

  it('exits 1 at once on a second signal while stopping', async () => {
    const r = run({ FIXTURE_STOP: 'hang' });
    await logLine(r, 'started');
    r.child.kill('SIGTERM');
    await logLine(r, 'stopping');
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(1);
    expect(r.lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'second signal: exiting now', signal: 'SIGINT' }));
  });

  it('exits 1 when the graceful stop outlasts forceExitMs', async () => {
    const r = run({ FIXTURE_STOP: 'hang', FIXTURE_FORCE_EXIT_MS: '300' });
    await logLine(r, 'started');
    const sent = Date.now();
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(1);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(250);
    expect(messages(r).sort()).toEqual(['graceful stop took longer than 0.3 s: exiting', 'started', 'stopping']);
  });
});
