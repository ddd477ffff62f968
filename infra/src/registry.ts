/**
 * A real Confluent-compatible schema registry: Apicurio Registry 3, whose ready-built server
 * infra/registry/pom.xml unpacks from Maven Central, run by infra/registry/start.sh (see
 * infra/registry/NOTES.md). Schemas persist in an H2 file under the state directory, so ids
 * in Kafka's retained records stay valid across restarts. Confluent API: /apis/ccompat/v7.
 */
import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import type { InfraConfig } from './config.ts';
import { InfraError } from './config.ts';
import { findJava, mvn } from './java.ts';
import { type Daemon, portInUse, runningPid, startDaemon, waitHealthy } from './process.ts';

/** Apicurio Registry 3 is compiled for Java 21. */
const REGISTRY_MIN_JAVA = 21;
/** Quarkus' management interface (health) listens here: moved off its default 0.0.0.0:9000. */
const mgmtPort = (cfg: InfraConfig) => cfg.registryPort + 1000;

export const registryDaemon = (cfg: InfraConfig): Daemon => ({ name: 'registry', stateDir: cfg.stateDir });

function runnerJar(cfg: InfraConfig): string {
  return join(cfg.infraDir, 'registry', 'target', 'quarkus-app', 'quarkus-run.jar');
}

/** Builds the registry once (Quarkus augmentation of the Maven Central jars); later runs reuse it. */
export async function ensureRegistryBuilt(cfg: InfraConfig): Promise<void> {
  if (existsSync(runnerJar(cfg))) return;
  await mvn(join(cfg.infraDir, 'registry', 'pom.xml'), ['-Dstyle.color=never', 'package'], 'fetching the schema registry (Apicurio Registry 3, ~160 MB once)');
  if (!existsSync(runnerJar(cfg))) throw new InfraError(`the registry build left no ${runnerJar(cfg)}`);
}

export async function registryHealthy(cfg: InfraConfig): Promise<string | undefined> {
  const base = `http://127.0.0.1:${cfg.registryPort}`;
  const subjects = await fetch(`${base}/apis/ccompat/v7/subjects`, { signal: AbortSignal.timeout(2000) });
  if (!subjects.ok) return undefined;
  const info = await fetch(`${base}/apis/registry/v3/system/info`, { signal: AbortSignal.timeout(2000) });
  const body = info.ok ? ((await info.json()) as { name?: string; version?: string }) : {};
  return `${body.name ?? 'Apicurio Registry'} ${body.version ?? ''}`.trim();
}

export async function startRegistry(cfg: InfraConfig): Promise<{ version: string; started: boolean }> {
  const d = registryDaemon(cfg);
  let pid = runningPid(d);
  const started = pid === null;
  if (pid === null) {
    for (const port of [cfg.registryPort, mgmtPort(cfg)]) {
      if (await portInUse(port)) {
        throw new InfraError(
          `port ${port} on 127.0.0.1 is already taken by a process infra did not start; stop it or move the registry (and its management port, +1000) with CRM_REGISTRY_PORT`,
        );
      }
    }
    const java = findJava(REGISTRY_MIN_JAVA, 'the schema registry (Apicurio Registry 3)');
    await ensureRegistryBuilt(cfg);
    const dataDir = join(cfg.stateDir, 'registry');
    mkdirSync(dataDir, { recursive: true });
    pid = startDaemon(d, 'bash', [join(cfg.infraDir, 'registry', 'start.sh')], {
      ...process.env,
      REGISTRY_PORT: String(cfg.registryPort),
      REGISTRY_MGMT_PORT: String(mgmtPort(cfg)),
      REGISTRY_HOST: '127.0.0.1',
      REGISTRY_DATA_DIR: dataDir,
      REGISTRY_PERSIST: '1',
      REGISTRY_JAVA: java,
    });
  }
  const version = await waitHealthy(d, pid, () => registryHealthy(cfg), 90_000, 'the registry never listed its subjects');
  return { version, started };
}
