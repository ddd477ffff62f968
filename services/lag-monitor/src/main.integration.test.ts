/**
 * The lag monitor as operators run it: `node src/main.ts` with its environment. A bad variable
 * stops it at start with the variable's name (exit 78); SIGTERM stops it cleanly (exit 0).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testEndpoints, uniqueName } from '@crm/testkit';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function start(env: Record<string, string>): { child: ChildProcess; output: string[] } {
  const output: string[] = [];
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  return { child, output };
}

describe('lag-monitor process', () => {
  it('refuses a bad configuration at start, naming the variable (exit 78)', async () => {
    const { child, output } = start({ KAFKA_BROKERS: 'localhost', LAG_HTTP_PORT: '0' });
    const [code] = await once(child, 'exit');
    expect(code, output.join('')).toBe(78);
    expect(output.join('')).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port/);
  });

  it('serves its endpoints and stops cleanly on SIGTERM (exit 0)', async () => {
    const { child, output } = start({ KAFKA_BROKERS: testEndpoints().kafkaBrokers, LAG_HTTP_PORT: '0', LAG_GROUP_PREFIX: uniqueName('lagtest-none') });
    // The start line carries the port the system chose; pino writes one JSON object per line.
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.on('data', () => {
        for (const line of output.join('').split('\n')) {
          if (line.includes('"lag monitor started"')) resolve((JSON.parse(line) as { port: number }).port);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before starting:\n${output.join('')}`)));
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^# HELP crm_consumer_lag_messages /m);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code, output.join('')).toBe(0);
    expect(output.join('')).toMatch(/"lag monitor stopped"/);
  });
});
