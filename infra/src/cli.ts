#!/usr/bin/env node
/** `node infra/src/cli.ts up|down|status`: the local infrastructure from a shell. */
import { down, endpoints, InfraError, infraConfig, status, up } from './index.ts';

async function main(command: string | undefined): Promise<number> {
  const cfg = infraConfig();
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      const res = await up(cfg);
      console.log(`infra up in ${((Date.now() - t0) / 1000).toFixed(1)} s (started: ${res.started.join(', ') || 'nothing, all were running'})`);
      console.log(`  Kafka ${res.versions.kafka}    KAFKA_BROKERS=${res.kafkaBrokers}`);
      console.log(`  Redis ${res.versions.redis}    REDIS_URL=${res.redisUrl}`);
      console.log(`  ${res.versions.registry}    SCHEMA_REGISTRY_URL=${res.schemaRegistryUrl}`);
      console.log(`  state: ${cfg.stateDir}`);
      return 0;
    }
    case 'down': {
      const stopped = await down(cfg);
      console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
      return 0;
    }
    case 'status': {
      const rows = await status(cfg);
      for (const r of rows) console.log(`${r.name.padEnd(9)} ${r.healthy ? 'up  ' : 'DOWN'} pid=${r.pid ?? '-'}  ${r.detail}  log=${r.log}`);
      const e = endpoints(cfg);
      console.log(`KAFKA_BROKERS=${e.kafkaBrokers} REDIS_URL=${e.redisUrl} SCHEMA_REGISTRY_URL=${e.schemaRegistryUrl}`);
      return rows.every((r) => r.healthy) ? 0 : 1;
    }
    default:
      console.error('usage: infra up | down | status');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof InfraError ? `infra: ${err.message}` : err);
    process.exit(1);
  },
);
