/**
 * A Kafka broker of a test's own (never the shared one), started by infra in a temp dir on free
 * ports: for tests that must make the broker unreachable. `pause()` freezes it (SIGSTOP: its
 * connections hang, as with a network partition), `resume()` thaws it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InfraConfig, freePorts, infraConfig, kafkaDaemon, runningPid, startKafka, stopDaemon } from '@crm/infra';

export class OwnKafka {
  private readonly cfg: InfraConfig;

  private constructor(cfg: InfraConfig) {
    this.cfg = cfg;
  }

  /** Starts a single-node KRaft broker and waits until it answers metadata requests. */
  static async start(): Promise<OwnKafka> {
    const [port, controllerPort] = await freePorts(2);
    const env = {
      CRM_INFRA_DIR: mkdtempSync(join(tmpdir(), 'crm-own-kafka-')),
      CRM_KAFKA_PORT: String(port),
      CRM_KAFKA_CONTROLLER_PORT: String(controllerPort),
      // Not started; infraConfig wants them distinct.
      CRM_REDIS_PORT: '1024',
      CRM_REGISTRY_PORT: '1025',
    };
    const k = new OwnKafka(infraConfig(env));
    await startKafka(k.cfg);
    return k;
  }

  get brokers(): string {
    return `127.0.0.1:${this.cfg.kafkaPort}`;
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = runningPid(kafkaDaemon(this.cfg));
    if (pid === null) throw new Error('the own broker is not running');
    process.kill(-pid, sig);
  }

  /** Freezes the broker: it accepts nothing and answers nothing until `resume()`. */
  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** Stops the broker (thawed first) and removes its directory. */
  async close(): Promise<void> {
    try {
      this.resume();
    } catch {
      // not running
    }
    await stopDaemon(kafkaDaemon(this.cfg), 5_000);
    rmSync(this.cfg.stateDir, { recursive: true, force: true });
  }
}
