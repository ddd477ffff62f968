/** Kafka's release is read from the process listening on the broker's port, whoever started it. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerRelease, kafkaReleaseOfJar, listenerPid } from './versions.ts';

describe('Kafka release detection', () => {
  it('reads the release from the jar names Kafka ships', () => {
    expect(kafkaReleaseOfJar('kafka_2.13-4.1.2.jar')).toBe('4.1.2');
    expect(kafkaReleaseOfJar('kafka-server-4.0.0.jar')).toBe('4.0.0');
    expect(kafkaReleaseOfJar('kafka-clients-4.1.2.jar')).toBeNull();
    expect(kafkaReleaseOfJar('kafka_2.13-4.1.2-sources.jar')).toBe('4.1.2-sources');
  });

  it('finds the process listening on a port and the Kafka jar on its classpath, whoever started it', async () => {
    const lib = mkdtempSync(join(tmpdir(), 'crm-fake-kafka-'));
    for (const jar of ['kafka-clients-9.8.7.jar', 'kafka_2.13-9.8.7.jar', 'zstd-jni-1.5.jar']) writeFileSync(join(lib, jar), '');
    // A stand-in broker: listens on a free port, with a JVM-like `-cp <dir>/*` on its command line.
    const script = "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))";
    const child = spawn(process.execPath, ['-e', script, '--', '-cp', join(lib, '*')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve) => child.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
      expect(listenerPid(port)).toBe(child.pid);
      expect(brokerRelease(`127.0.0.1:${port}`)).toBe('9.8.7');
    } finally {
      child.kill();
    }
  });

  it('says why when it cannot know', () => {
    expect(brokerRelease('kafka.example.internal:9092')).toMatch(/not reported \(remote broker\)/);
  });
});
