/**
 * `run(argv, io)`: the whole CLI as a function returning the exit code, writing only to the
 * given streams, so tests run it in-process. Expected errors become one line on stderr.
 */
import { redactSecrets } from '@crm/service-kit';
import { CommanderError } from 'commander';
import { CliError, oneLine } from './errors.ts';
import { type Io, processIo } from './io.ts';
import { buildProgram } from './program.ts';

/** Runs `crm <argv...>`; resolves with the exit code (0 ok, 1 failed, 2 usage). */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its message for usage errors.
      return err.exitCode === 0 ? 0 : 2;
    }
    // Library errors may quote a password (a URL's, or one the configuration read): masked.
    if (err instanceof CliError) {
      io.stderr.write(redactSecrets(`crm: ${err.message}\n`));
      return err.exitCode;
    }
    io.stderr.write(redactSecrets(`crm: ${oneLine(err)}${io.env['CRM_DEBUG'] ? `\n${(err as Error).stack ?? ''}` : ' (CRM_DEBUG=1 shows the stack)'}\n`));
    return 1;
  }
}
