/** `crm infra up|down|status`: the local Kafka, Redis and schema registry (@crm/infra). */
import { down, endpoints, InfraError, infraConfig, status, up } from '@crm/infra';
import { CliError } from '../errors.ts';
import { type Io, println } from '../io.ts';

function config(io: Io) {
  try {
    return infraConfig(io.env as NodeJS.ProcessEnv);
  } catch (err) {
    throw new CliError((err as Error).message, { exitCode: 2 });
  }
}

async function infraCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof InfraError) throw new CliError(err.message, { cause: err });
    throw err;
  }
}

export async function infraUp(io: Io): Promise<number> {
  const cfg = config(io);
  const t0 = Date.now();
  const res = await infraCall(() => up(cfg));
  println(io.stdout, `infra up in ${((Date.now() - t0) / 1000).toFixed(1)} s (started: ${res.started.join(', ') || 'nothing, all were running'})`);
  println(io.stdout, `  Kafka ${res.versions.kafka}    KAFKA_BROKERS=${res.kafkaBrokers}`);
  println(io.stdout, `  Redis ${res.versions.redis}    REDIS_URL=${res.redisUrl}`);
  println(io.stdout, `  ${res.versions.registry}    SCHEMA_REGISTRY_URL=${res.schemaRegistryUrl}`);
  println(io.stdout, `  state: ${cfg.stateDir}`);
  return 0;
}

export async function infraDown(io: Io): Promise<number> {
  const stopped = await infraCall(() => down(config(io)));
  println(io.stdout, stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
  return 0;
}

export async function infraStatus(io: Io): Promise<number> {
  const cfg = config(io);
  const rows = await infraCall(() => status(cfg));
  for (const r of rows) println(io.stdout, `${r.name.padEnd(9)} ${r.healthy ? 'up  ' : 'DOWN'} pid=${r.pid ?? '-'}  ${r.detail}  log=${r.log}`);
  const e = endpoints(cfg);
  println(io.stdout, `KAFKA_BROKERS=${e.kafkaBrokers} REDIS_URL=${e.redisUrl} SCHEMA_REGISTRY_URL=${e.schemaRegistryUrl}`);
  return rows.every((r) => r.healthy) ? 0 : 1;
}
