/**
 * A Node script run as a child process the way operators run a service, with its pino JSON
 * lines parsed as they arrive: for tests of exit codes, signals and logs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface NodeProcess {
  child: ChildProcess;
  /** Every JSON line written to stdout so far, parsed. */
  lines: Array<Record<string, unknown>>;
  /** Everything written to stderr so far. */
  stderr: () => string;
  /** The exit code, once stdout and stderr have ended (so `lines` is complete). */
  exited: Promise<number | null>;
}

/** Runs `script` with `node` and only PATH plus `env` in its environment. */
export function spawnNode(script: string, env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const l of parts) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    child.emit('lines');
  });
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  // 'close', not 'exit': the last lines are read once stdout has ended.
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return { child, lines, stderr: () => stderr.join(''), exited };
}

/** Resolves with the first line whose `msg` is `msg`, as soon as it is written; rejects if the process exits first. */
export async function logLine(p: NodeProcess, msg: string): Promise<Record<string, unknown>> {
  for (;;) {
    const found = p.lines.find((l) => l['msg'] === msg);
    if (found) return found;
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`exited ${p.child.exitCode} before logging "${msg}": ${p.stderr()}`);
    await Promise.race([once(p.child, 'lines'), p.exited]);
  }
}
