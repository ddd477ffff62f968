/** Broken setups fail loudly, naming the problem: no Java, a port already taken, a server that never answers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InfraError, infraConfig } from './config.ts';
import { findJava } from './java.ts';
import { startKafka } from './kafka.ts';
import { isAlive, run, startDaemon, stopDaemon, waitHealthy } from './process.ts';
import { startRedis } from './redis.ts';

function listenOnFreePort(): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ port: typeof address === 'object' && address ? address.port : 0, close: () => server.close() });
    });
  });
}

const isolated = (env: Record<string, string> = {}) => infraConfig({ CRM_INFRA_DIR: mkdtempSync(join(tmpdir(), 'crm-infra-test-')), ...env });

describe('infra configuration', () => {
  it('names the variable and the expectation for a bad port', () => {
    expect(() => infraConfig({ CRM_KAFKA_PORT: 'ninety' })).toThrow(/CRM_KAFKA_PORT must be a port number from 1024 to 65535, got "ninety"/);
    expect(() => infraConfig({ CRM_KAFKA_PORT: '0x4A38' })).toThrow(/CRM_KAFKA_PORT must be a port number/);
    expect(() => infraConfig({ CRM_REDIS_PORT: '1.6e4' })).toThrow(/CRM_REDIS_PORT must be a port number/);
    expect(() => infraConfig({ CRM_REDIS_PORT: '19092' })).toThrow(/must differ/);
  });
});

describe('broken setups', () => {
  it('says which Java is needed and how to get it when none is good enough', () => {
    expect(() => findJava(99, 'the Kafka broker')).toThrow(
      /the Kafka broker needs Java 99 or newer.*apt-get install openjdk-99-jre-headless, or set JAVA_HOME/s,
    );
  });

  it('refuses to start Kafka on a port another process holds, naming the port and the variable', async () => {
    const taken = await listenOnFreePort();
    try {
      const cfg = isolated({ CRM_KAFKA_PORT: String(taken.port), CRM_KAFKA_CONTROLLER_PORT: String(taken.port + 1 > 65535 ? 2000 : taken.port + 1) });
      await expect(startKafka(cfg)).rejects.toThrow(new RegExp(`port ${taken.port} on 127.0.0.1 is already taken.*CRM_KAFKA_PORT`));
    } finally {
      taken.close();
    }
  });

  it('refuses to start Redis on a port another process holds', async () => {
    const taken = await listenOnFreePort();
    try {
      await expect(startRedis(isolated({ CRM_REDIS_PORT: String(taken.port) }))).rejects.toBeInstanceOf(InfraError);
    } finally {
      taken.close();
    }
  });

  it('gives up on a server that never answers, with the hint and its log, and stops it cleanly', async () => {
    const cfg = isolated();
    const d = { name: 'mute', stateDir: cfg.stateDir };
    const pid = startDaemon(d, 'sh', ['-c', 'echo "waiting for a lock held elsewhere"; exec sleep 60']);
    const never = async () => undefined;
    await expect(waitHealthy(d, pid, never, 600, 'the registry never listed its subjects')).rejects.toThrow(
      /mute did not answer within 0.6 s: the registry never listed its subjects; last lines of .*mute\.log:\nwaiting for a lock held elsewhere/,
    );
    expect(await stopDaemon(d, 1000)).toBe(true);
    expect(isAlive(pid)).toBe(false);
  });

  it('keeps the event loop turning while a provisioning command runs (a Maven download must not starve health checks)', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    try {
      // The child ends only after the loop has turned: it waits for a file the interval's turns create.
      const dir = mkdtempSync(join(tmpdir(), 'crm-run-'));
      const flag = join(dir, 'flag');
      // Bounded: with a blocking run the flag never comes, and the command fails after ~10 s instead of hanging.
      const script = `for i in $(seq 1000); do [ -f ${flag} ] && { echo done; exit 0; }; sleep 0.01; done; echo "no flag"; exit 1`;
      const waiting = run('sh', ['-c', script], 'waiting for the flag');
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (ticks >= 3) {
            clearInterval(check);
            writeFileSync(flag, '');
            resolve();
          }
        }, 5);
      });
      await expect(waiting).resolves.toContain('done');
    } finally {
      clearInterval(ticker);
    }
  });

  it('a failing command rejects with its exit code and the tail of its output', async () => {
    await expect(run('sh', ['-c', 'echo "E: Unable to locate package nope"; exit 100'], 'installing nope')).rejects.toThrow(
      /installing nope failed \(exit 100\):\nE: Unable to locate package nope/,
    );
  });

  it('reports a server that dies during start-up with the tail of its log', async () => {
    const cfg = isolated();
    const d = { name: 'crashy', stateDir: cfg.stateDir };
    const pid = startDaemon(d, 'sh', ['-c', 'echo "fatal: cannot bind"; exit 3']);
    await expect(waitHealthy(d, pid, async () => undefined, 10_000, 'never')).rejects.toThrow(/crashy exited during start-up.*fatal: cannot bind/s);
  });
});
