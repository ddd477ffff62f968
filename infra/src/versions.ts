/**
 * The Kafka release of a running broker, whoever started it. A broker does not report its
 * release over the protocol, so for a broker on this machine it is read from the jars of the
 * process that listens on the broker's port (`/proc`: listening socket → process → classpath).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Inodes of sockets listening on `port` (any local address), from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      // st 0A is LISTEN; the local address ends with the port in hex.
      if (local === undefined || f[3] !== '0A' || f[9] === undefined) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(f[9]);
    }
  }
  return inodes;
}

/** The pid of the process listening on `port` on this machine, or null (none, or not visible to us). */
export function listenerPid(port: number): number | null {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m?.[1] !== undefined && inodes.has(m[1])) return Number(entry);
      } catch {
        // closed meanwhile
      }
    }
  }
  return null;
}

/** The release in a Kafka jar's name (kafka_2.13-4.1.2.jar, kafka-server-4.1.2.jar), or null. */
export function kafkaReleaseOfJar(name: string): string | null {
  return /^kafka(?:_2\.1\d|-server)-(\d[\w.-]*?)\.jar$/.exec(name)?.[1] ?? null;
}

/** The Kafka release on a JVM's classpath (`-cp a:b/*`), or null. */
export function kafkaReleaseOfClasspath(classpath: string): string | null {
  for (const entry of classpath.split(':')) {
    const names = entry.endsWith('*') && existsSync(dirname(entry)) ? readdirSync(dirname(entry)) : [basename(entry)];
    for (const name of names) {
      const release = kafkaReleaseOfJar(name);
      if (release !== null) return release;
    }
  }
  return null;
}

/** The port of `host:port` when the host is this machine's loopback (`[::1]:port` too), else null. */
export function localPort(hostPort: string): number | null {
  const at = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(hostPort.slice(at + 1));
  return at > 0 && ['127.0.0.1', 'localhost', '::1'].includes(host) && Number.isInteger(port) ? port : null;
}

/**
 * The Kafka release of the broker at `brokers` (its first host:port), when that broker runs on
 * this machine and its process is visible; else a note saying why it is unknown.
 */
export function brokerRelease(brokers: string): string {
  const port = localPort(brokers.split(',')[0] ?? '');
  if (port === null) return 'release not reported (remote broker)';
  const pid = listenerPid(port);
  if (pid === null) return 'release unknown (listener not visible)';
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return 'release unknown (listener not visible)';
  }
  const cpAt = args.findIndex((a) => a === '-cp' || a === '-classpath' || a === '--class-path');
  const classpath = cpAt >= 0 ? args[cpAt + 1] : undefined;
  const cwd = (() => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      return '/';
    }
  })();
  const absolute = classpath
    ?.split(':')
    .map((e) => (e.startsWith('/') ? e : join(cwd, e)))
    .join(':');
  return (absolute === undefined ? null : kafkaReleaseOfClasspath(absolute)) ?? 'release unknown (no Kafka jar on the listener’s classpath)';
}
