/**
 * The lag monitor service: collects the lag of every watched group every LAG_INTERVAL_MS,
 * exports it as metrics and JSON, and stops gracefully (finishes the collection in hand,
 * disconnects, closes the HTTP server).
 */
import type { Server } from 'node:http';
import { kafkaLogCreator, kafkaOptions, startHttp } from '@crm/service-kit';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { LagCollector, type LagSnapshot } from './collect.ts';
import type { LagMonitorConfig } from './config.ts';
import { type Metrics, createMetrics, exportSnapshot } from './metrics.ts';

export class LagMonitor {
  readonly metrics: Metrics;
  private readonly config: LagMonitorConfig;
  private readonly log: Logger;
  private readonly collector: LagCollector;
  private http: Server | undefined;
  private loop: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private running = false;
  private last: LagSnapshot | undefined;
  private lastFailed = false;
  private waiters: ((s: LagSnapshot) => void)[] = [];

  constructor(config: LagMonitorConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.metrics = createMetrics();
    // WARN: kafkajs logs every group join of the probe consumer at INFO.
    const kafka = new Kafka(kafkaOptions(config.kafka, { clientId: 'crm-lag-monitor', logLevel: logLevel.WARN, logCreator: kafkaLogCreator(log) }));
    this.collector = new LagCollector(kafka, { probeTimeoutMs: config.probeTimeoutMs, log });
  }

  async start(): Promise<void> {
    this.http = await startHttp(
      this.config.http,
      this.metrics.registry,
      { ready: () => this.readiness() },
      {
        // The last collection as JSON; 503 before the first one.
        '/lag': () => (this.last === undefined ? { status: 503, body: { error: 'no collection yet' } } : { status: 200, body: this.last }),
      },
    );
    await this.collector.connect();
    this.running = true;
    this.schedule(0);
    this.log.info({ groups: this.config.groups, intervalMs: this.config.intervalMs, port: this.httpPort() }, 'lag monitor started');
  }

  /** The last collection, or undefined before the first. */
  snapshot(): LagSnapshot | undefined {
    return this.last;
  }

  /** Resolves with the next collection that completes. */
  nextCollection(): Promise<LagSnapshot> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private schedule(delayMs: number): void {
    this.loop = setTimeout(() => {
      this.inFlight = this.collectOnce().finally(() => {
        this.inFlight = undefined;
        if (this.running) this.schedule(this.config.intervalMs);
      });
    }, delayMs);
  }

  private async collectOnce(): Promise<void> {
    const end = this.metrics.collectDuration.startTimer();
    try {
      const snapshot = await this.collector.collect(this.config.groups);
      exportSnapshot(this.metrics, snapshot);
      this.last = snapshot;
      this.lastFailed = false;
      if (snapshot.errors.length > 0) this.log.warn({ errors: snapshot.errors }, 'collection incomplete');
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w(snapshot);
    } catch (err) {
      this.metrics.scrapeErrors.inc({ stage: 'collect' });
      this.lastFailed = true;
      this.log.error({ err }, 'collection failed; retried after the interval');
    } finally {
      end();
    }
  }

  private readiness(): { ready: boolean; detail: Record<string, unknown> } {
    const ready = this.running && this.last !== undefined && !this.lastFailed;
    return { ready, detail: { running: this.running, lastCollection: this.last ? new Date(this.last.at).toISOString() : null, lastFailed: this.lastFailed } };
  }

  /** Finishes the collection in hand, disconnects from Kafka, closes the HTTP server. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.loop) clearTimeout(this.loop);
    await this.inFlight;
    await this.collector.disconnect();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.log.info('lag monitor stopped');
  }

  httpPort(): number {
    const address = this.http?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }
}
