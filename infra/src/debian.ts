/** Tools from Debian's packages: found on PATH, or installed with apt-get when missing and running as root. */
import { InfraError } from './config.ts';
import { run, which } from './process.ts';

/**
 * The path of `binary`; installs Debian's `pkg` when it is missing and this process is root,
 * otherwise throws saying what to install.
 */
export function ensureDebianTool(binary: string, pkg: string, purpose: string): string {
  const found = which(binary);
  if (found !== null) return found;
  if (process.getuid?.() !== 0 || which('apt-get') === null) {
    throw new InfraError(`${binary} not found: ${purpose} needs it; install it (Debian: sudo apt-get install ${pkg}) and retry`);
  }
  run('apt-get', ['update', '-qq'], 'apt-get update');
  // --no-install-recommends: the binary is what we need, not the package's companions.
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], `installing ${pkg}`);
  const installed = which(binary);
  if (installed === null) throw new InfraError(`${binary} still missing after apt-get install ${pkg}`);
  return installed;
}
