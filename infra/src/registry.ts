/**
 * A real Confluent-compatible schema registry: Apicurio Registry 3, built from its Maven
 * Central artifacts by infra/registry/pom.xml (a Quarkus build, see infra/registry/NOTES.md),
 * storing schemas in memory. Its Confluent API lives under /apis/ccompat/v7.
 */
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import type { InfraConfig } from './config.ts';
import { InfraError } from './config.ts';
import { findJava, mvn } from './java.ts';
import { type Daemon, portInUse, runningPid, startDaemon, waitHealthy } from './process.ts';

/** Apicurio Registry 3 is compiled for Java 21. */
const REGISTRY_MIN_JAVA = 21;
const REGISTRY_HEAP = ['-Xms128m', '-Xmx768m'];

export const registryDaemon = (cfg: InfraConfig): Daemon => ({ name: 'registry', stateDir: cfg.stateDir });

function runnerJar(cfg: InfraConfig): string {
  return join(cfg.infraDir, 'registry', 'target', 'quarkus-app', 'quarkus-run.jar');
}

/** Builds the registry once (Quarkus augmentation of the Maven Central jars); later runs reuse it. */
export function ensureRegistryBuilt(cfg: InfraConfig, java: string): void {
  if (existsSync(runnerJar(cfg))) return;
  mvn(join(cfg.infraDir, 'registry', 'pom.xml'), ['package', '-DskipTests'], 'building the schema registry', dirname(dirname(java)));
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
    if (await portInUse(cfg.registryPort)) {
      throw new InfraError(
        `port ${cfg.registryPort} on 127.0.0.1 is already taken by a process infra did not start; stop it or move the registry with CRM_REGISTRY_PORT`,
      );
    }
    const java = findJava(REGISTRY_MIN_JAVA, 'the schema registry (Apicurio Registry 3)');
    ensureRegistryBuilt(cfg, java);
    mkdirSync(cfg.stateDir, { recursive: true });
    pid = startDaemon(d, java, [...REGISTRY_HEAP, `-Dquarkus.http.port=${cfg.registryPort}`, '-Dquarkus.http.host=127.0.0.1', '-jar', runnerJar(cfg)]);
  }
  const version = await waitHealthy(d, pid, () => registryHealthy(cfg), 90_000, 'the registry never listed its subjects');
  return { version, started };
}
