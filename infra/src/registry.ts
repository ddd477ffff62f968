/**
 * A real Confluent-compatible schema registry: Apicurio Registry 3, whose ready-built server
 * infra/registry/pom.xml unpacks from Maven Central, run by infra/registry/start.sh (see
 * infra/registry/NOTES.md). Schemas persist in an H2 file under the state directory, so ids
 * in Kafka's retained records stay valid across restarts. Confluent API: /apis/ccompat/v7.
 */
import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { type InfraConfig, InfraError } from './config.ts';
import { callHttp, type HttpOptions } from './http.ts';
import { findJava, mvn } from './java.ts';
import { type Daemon, ensurePortsFree, runningPid, startDaemon, waitHealthy } from './process.ts';

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

/** "Apicurio Registry <version>" when the registry at `base` lists its subjects. */
export async function registryAnswers(base: string, options: HttpOptions = {}): Promise<string | undefined> {
  const subjects = await callHttp(`${base}/apis/ccompat/v7/subjects`, options);
  if (subjects.status !== 200) return undefined;
  const info = await callHttp(`${base}/apis/registry/v3/system/info`, options);
  const body = info.status === 200 ? (JSON.parse(info.body) as { name?: string; version?: string }) : {};
  return `${body.name ?? 'Apicurio Registry'} ${body.version ?? ''}`.trim();
}

export function registryHealthy(cfg: InfraConfig): Promise<string | undefined> {
  return registryAnswers(`http://127.0.0.1:${cfg.registryPort}`);
}

/** One registry to start: the plain profile's or the secure one's. */
export interface RegistryServer {
  daemon: Daemon;
  /** Its data folder (H2 file, scratch). */
  dataDir: string;
  port: number;
  mgmtPort: number;
  portVariable: string;
  /** Extra JVM arguments (the secure profile's configuration file). */
  jvmArgs: string[];
  healthy(): Promise<string | undefined>;
}

export function startRegistry(cfg: InfraConfig): Promise<{ version: string; started: boolean }> {
  return startRegistryServer(cfg, {
    daemon: registryDaemon(cfg),
    dataDir: join(cfg.stateDir, 'registry'),
    port: cfg.registryPort,
    mgmtPort: mgmtPort(cfg),
    portVariable: 'CRM_REGISTRY_PORT',
    jvmArgs: [],
    healthy: () => registryHealthy(cfg),
  });
}

export async function startRegistryServer(cfg: InfraConfig, server: RegistryServer): Promise<{ version: string; started: boolean }> {
  const d = server.daemon;
  let pid = runningPid(d);
  const started = pid === null;
  if (pid === null) {
    const variable = `${server.portVariable} (the management port is +1000)`;
    await ensurePortsFree(
      [
        { port: server.port, variable },
        { port: server.mgmtPort, variable },
      ],
      'the registry',
    );
    const java = findJava(REGISTRY_MIN_JAVA, 'the schema registry (Apicurio Registry 3)');
    await ensureRegistryBuilt(cfg);
    mkdirSync(server.dataDir, { recursive: true });
    pid = startDaemon(d, 'bash', [join(cfg.infraDir, 'registry', 'start.sh'), ...server.jvmArgs], {
      ...process.env,
      REGISTRY_PORT: String(server.port),
      REGISTRY_MGMT_PORT: String(server.mgmtPort),
      REGISTRY_HOST: '127.0.0.1',
      REGISTRY_DATA_DIR: server.dataDir,
      REGISTRY_PERSIST: '1',
      REGISTRY_JAVA: java,
    });
  }
  const version = await waitHealthy(d, pid, server.healthy, 90_000, 'the registry never listed its subjects');
  return { version, started };
}
