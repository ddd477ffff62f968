/**
 * Where a command writes and what it reads from its process: injectable so that tests run the
 * CLI in-process and read what it printed.
 */

/** What a command writes to. `isTTY` decides between a live progress bar and plain lines. */
export interface Output {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  /** Environment the connection settings come from (process.env for the real command). */
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. */
  cwd: string;
}

/** The real process' streams and environment. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Writes one line. */
export function println(out: Output, line = ''): void {
  out.write(`${line}\n`);
}
