/**
 * The security tests' way of running the project's programs as operators run them: each
 * service and the CLI as a child process with only PATH plus the given environment, every byte
 * it writes kept, so that a test can look for a secret or count the lines that say what is wrong.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSecret, type secureServers } from '@crm/testkit';

/** The secured servers' endpoints, files and settings. */
export type SecureServers = Awaited<ReturnType<typeof secureServers>>;

/** A path inside the repository. */
export const repoPath = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export const SEGMENTER = repoPath('services/segmenter/src/main.ts');
export const LAG_MONITOR = repoPath('services/lag-monitor/src/main.ts');
export const PROFILE_API = repoPath('services/profile-api/src/main.ts');
export const CLI = repoPath('packages/cli/src/main.ts');

export interface Run {
  child: ChildProcess;
  /** stdout and stderr as written, interleaved. */
  output: () => string;
  /** The exit code, once both streams have ended. */
  exited: Promise<number | null>;
}

/** Runs `script` with node and only PATH plus `env`, keeping every byte it writes. */
export function run(script: string, env: Record<string, string>, args: string[] = []): Run {
  const child = spawn(process.execPath, [script, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return { child, output: () => chunks.join(''), exited };
}

/** Stops `r` with SIGTERM (if it still runs) and waits for its exit code. */
export async function stop(r: Run): Promise<number | null> {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
  return r.exited;
}

/** Redis refusing a command to an ACL user: NOPERM, or inside a Lua script "can't run this command". */
export const REFUSED_COMMAND = /NOPERM|no permissions|can't run this command/i;

/** The lines of `output` that match `pattern`. */
export const linesMatching = (output: string, pattern: RegExp): string[] => output.split('\n').filter((l) => pattern.test(l));

/** The URL a service logged in its "<what> listening" line, once it has. */
export function listeningAddress(r: Run, msg: string): string | undefined {
  for (const line of r.output().split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const parsed = JSON.parse(line) as { address?: string; port?: number };
    if (parsed.address !== undefined) return parsed.address;
  }
  return undefined;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A GET over HTTP or HTTPS (trusting `ca`), with a bearer token when given. */
export function httpGet(url: string, { ca, token }: { ca?: string; token?: string } = {}): Promise<HttpAnswer> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { ca, headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** `env` without the variables named by `names`. */
export function without(env: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)));
}

/** Every secret of the secured servers: each user's password and the body of each private key. */
export function profileSecrets(s: SecureServers): string[] {
  const keyBody = (file: string) => readFileSync(file, 'utf8').split('\n')[1] ?? file;
  return [...Object.values(s.users).map((u) => readSecret(u.passwordFile)), keyBody(s.certs.serverKey), keyBody(s.certs.clientKey)];
}

/** The secrets of `secrets` that `output` holds (none, one hopes). */
export const leaked = (output: string, secrets: readonly string[]): string[] => secrets.filter((x) => output.includes(x));
