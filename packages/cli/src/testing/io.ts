/** An in-memory Io for running the CLI in tests. */
import type { Io } from '../io.ts';

export interface CapturedIo extends Io {
  out(): string;
  err(): string;
}

export function captureIo(env: Record<string, string | undefined>, options: { cwd?: string; tty?: boolean } = {}): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout: { write: (s: string) => stdout.push(s), isTTY: false },
    stderr: { write: (s: string) => stderr.push(s), isTTY: options.tty ?? false },
    env,
    cwd: options.cwd ?? process.cwd(),
    out: () => stdout.join(''),
    err: () => stderr.join(''),
  };
}
