/**
 * Finding a Java runtime and Maven for the JVM servers (the Kafka broker, the registry).
 * Java appears only here: the product itself is TypeScript.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from './config.ts';
import { run, which } from './process.ts';

function javaMajor(javaBin: string): number | null {
  const res = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return null;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(res.stderr + res.stdout);
  if (m === null) return null;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

/**
 * The `java` binary of a JDK of at least `minMajor`: JAVA_HOME, then PATH, then the JDKs
 * under /usr/lib/jvm (Debian's and Temurin's packages install there), newest first.
 */
export function findJava(minMajor: number, purpose: string): string {
  const candidates: string[] = [];
  const home = process.env['JAVA_HOME'];
  if (home) candidates.push(join(home, 'bin', 'java'));
  const onPath = which('java');
  if (onPath) candidates.push(onPath);
  if (existsSync('/usr/lib/jvm')) {
    for (const dir of readdirSync('/usr/lib/jvm').sort().reverse()) candidates.push(join('/usr/lib/jvm', dir, 'bin', 'java'));
  }
  const seen: string[] = [];
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    const major = javaMajor(bin);
    if (major !== null && major >= minMajor) return bin;
    if (major !== null) seen.push(`${bin} is Java ${major}`);
  }
  throw new InfraError(
    `${purpose} needs Java ${minMajor} or newer, and none was found (JAVA_HOME, PATH, /usr/lib/jvm)` +
      (seen.length ? `: ${seen.join('; ')}` : '') +
      `. Install one, e.g. apt-get install openjdk-${Math.max(17, minMajor)}-jre-headless, or set JAVA_HOME.`,
  );
}

/** Runs Maven on a pom of infra/ (jars are cached in ~/.m2 between runs). */
export async function mvn(pom: string, goals: string[], what: string): Promise<void> {
  const bin = which('mvn');
  if (bin === null) throw new InfraError(`${what} needs Maven (mvn) to fetch jars from Maven Central: apt-get install maven`);
  await run(bin, ['-q', '-B', '-f', pom, ...goals], what);
}
