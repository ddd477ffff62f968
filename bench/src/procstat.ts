/**
 * CPU time of a process from /proc/<pid>/stat (user + system, in seconds), for the segmenter
 * child, the broker and Redis, all on this machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/**
 * CPU seconds (user + system) the process has used so far, or null when it is gone. With
 * `mainThread`, only its main thread's (the JavaScript thread of a Node process, without GC
 * helpers, the libuv pool or the compiler threads).
 */
export function cpuSeconds(pid: number | null, mainThread = false): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), counted from field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return null;
  }
}

/**
 * A CPU meter over several processes: `stop()` gives each one's CPU % of one core over the
 * interval; keys in `mainThreads` measure only that process's main thread.
 */
export function cpuMeter(pids: Record<string, number | null>, mainThreads: ReadonlySet<string> = new Set()): () => Record<string, number | null> {
  const t0 = performance.now();
  const start = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p, mainThreads.has(k))]));
  return () => {
    const wall = (performance.now() - t0) / 1000;
    return Object.fromEntries(
      Object.entries(pids).map(([k, p]) => {
        const a = start[k];
        const b = cpuSeconds(p, mainThreads.has(k));
        return [k, a == null || b === null || wall <= 0 ? null : round(((b - a) / wall) * 100, 1)];
      }),
    );
  };
}

/**
 * Write system calls (write, writev, sendto, ...) the process has made so far (/proc/<pid>/io
 * syscw, every thread), or null when it is gone or the file is unreadable.
 */
export function writeSyscalls(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const m = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
