/** Tools from Debian's packages: found on PATH, or installed with apt-get when missing and running as root. */
import { InfraError } from './config.ts';
import { run, which } from './process.ts';

/** apt-get runs one at a time: two installs at once (Redis and promtool, say) would fight over dpkg's lock. */
let aptQueue: Promise<unknown> = Promise.resolve();

/** dpkg's lock may also be held by another process (a parallel test worker): wait for it rather than fail. */
const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];

/**
 * The path of `binary`; installs Debian's `pkg` when it is missing and this process is root,
 * otherwise throws saying what to install. The install runs without blocking the event loop.
 */
export async function ensureDebianTool(binary: string, pkg: string, purpose: string): Promise<string> {
  const found = which(binary);
  if (found !== null) return found;
  if (process.getuid?.() !== 0 || which('apt-get') === null) {
    throw new InfraError(`${binary} not found: ${purpose} needs it; install it (Debian: sudo apt-get install ${pkg}) and retry`);
  }
  const install = aptQueue.then(async () => {
    if (which(binary) !== null) return;
    await run('apt-get', [...APT_LOCK_WAIT, 'update', '-qq'], 'apt-get update');
    // --no-install-recommends: the binary is what we need, not the package's companions.
    await run('apt-get', [...APT_LOCK_WAIT, 'install', '-y', '-qq', '--no-install-recommends', pkg], `installing ${pkg}`);
  });
  aptQueue = install.catch(() => undefined);
  await install;
  const installed = which(binary);
  if (installed === null) throw new InfraError(`${binary} still missing after apt-get install ${pkg}`);
  return installed;
}
