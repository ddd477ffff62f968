#!/usr/bin/env node
/**
 * `node infra/src/cli.ts up|down|status [--secure] | run [--secure] -- <command...>`: the local
 * infrastructure from a shell. `run` starts the servers (unless KAFKA_BROKERS, REDIS_URL and
 * SCHEMA_REGISTRY_URL are all set), then runs the command with those variables set,
 * forwarding Ctrl-C and SIGTERM to it; when the command ends it stops the servers it started
 * itself (those it found running stay up), unless CRM_KEEP_INFRA=1. `--secure` (or
 * CRM_INFRA_SECURE=1) acts on the secured profile instead (TLS, SASL, ACL users; see
 * secure/index.ts).
 */
import { spawn } from 'node:child_process';
import { down, endpoints, InfraError, infraConfig, status, up } from './index.ts';
import { downSecure, envFileText, secureConfig, secureRequested, statusSecure, upSecure } from './secure/index.ts';

async function run(argv: string[]): Promise<number> {
  const secureRun = argv[0] === '--secure' || secureRequested();
  const rest = argv[0] === '--secure' ? argv.slice(1) : argv;
  const [command, ...args] = rest[0] === '--' ? rest.slice(1) : rest;
  if (command === undefined) throw new InfraError('usage: infra run [--secure] -- <command> [args...]');
  const env = { ...process.env };
  const keep = env['CRM_KEEP_INFRA'] === '1';
  let started: string[] = [];
  const after = () =>
    started.length === 0 ? 'they were running already and stay up' : keep ? 'CRM_KEEP_INFRA=1: they stay up' : `${started.join(', ')} stop when this ends`;
  if (secureRun) {
    // The secured servers' settings replace any in the environment: the command runs against them.
    const res = await upSecure();
    started = res.started;
    console.error(`infra: secured Kafka ${res.versions.kafka}, Redis ${res.versions.redis}, ${res.versions.registry} (${after()})`);
    Object.assign(env, res.env);
  } else if (!(env['KAFKA_BROKERS'] && env['REDIS_URL'] && env['SCHEMA_REGISTRY_URL'])) {
    const res = await up();
    started = res.started;
    console.error(`infra: Kafka ${res.versions.kafka}, Redis ${res.versions.redis}, ${res.versions.registry} on loopback (${after()})`);
    Object.assign(env, { KAFKA_BROKERS: res.kafkaBrokers, REDIS_URL: res.redisUrl, SCHEMA_REGISTRY_URL: res.schemaRegistryUrl });
  }
  const code = await runChild(command, args, env);
  if (started.length > 0 && !keep) {
    const stopped = secureRun ? await downSecure(secureConfig(), started) : await down(infraConfig(), started);
    console.error(`infra: stopped ${stopped.join(', ') || 'nothing (already gone)'}`);
  }
  return code;
}

/** Runs the command in its own process group, forwarding SIGINT and SIGTERM once; resolves with its exit code. */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  // Its own process group: a terminal's Ctrl-C reaches this process and the group, so the
  // child gets each signal exactly once, from here (a second one means "exit now").
  const child = spawn(command, args, { stdio: 'inherit', env, detached: true });
  // One Ctrl-C can reach this process twice (from the terminal and from a parent such as pnpm
  // that forwards it): a repeat within a second is the same press, not a "force exit" request.
  const lastForwarded = new Map<string, number>();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      const now = Date.now();
      if (now - (lastForwarded.get(sig) ?? 0) < 1000) return;
      lastForwarded.set(sig, now);
      child.kill(sig);
    });
  }
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

async function secure(command: string | undefined): Promise<number> {
  const cfg = secureConfig();
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      const res = await upSecure(cfg);
      console.log(
        `secure infra up in ${((Date.now() - t0) / 1000).toFixed(1)} s (started: ${res.started.join(', ') || 'nothing, all were running'}): ` +
          `Kafka ${res.versions.kafka} (SASL_SSL ${res.kafkaBrokers}, mutual TLS ${res.kafkaMtlsBrokers}), Redis ${res.versions.redis} (TLS), ${res.versions.registry} (HTTPS)`,
      );
      console.log(`# settings, also in ${res.envFile} (source it: . ${res.envFile})`);
      console.log(envFileText(res));
      console.log(`# certificates: ${cfg.certsDir}   passwords (mode 0600): ${cfg.secretsDir}   state: ${cfg.dir}`);
      return 0;
    }
    case 'down': {
      const stopped = await downSecure(cfg);
      console.log(stopped.length ? `stopped (secure): ${stopped.join(', ')}` : 'no secure server was running');
      return 0;
    }
    case 'status': {
      const rows = await statusSecure(cfg);
      for (const r of rows) console.log(`${r.name.padEnd(9)} ${r.healthy ? 'up  ' : 'DOWN'} pid=${r.pid ?? '-'}  ${r.detail}  log=${r.log}`);
      console.log(`settings: ${cfg.dir}/env`);
      return rows.every((r) => r.healthy) ? 0 : 1;
    }
    default:
      console.error('usage: infra up --secure | down --secure | status --secure');
      return 2;
  }
}

async function main(command: string | undefined): Promise<number> {
  if (command !== 'run' && (process.argv.slice(3).includes('--secure') || secureRequested())) return secure(command);
  const cfg = infraConfig();
  switch (command) {
    case 'run':
      return run(process.argv.slice(3));
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
      console.error('usage: infra up | down | status [--secure] | run [--secure] -- <command...>');
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
