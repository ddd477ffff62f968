/**
 * The throwaway material of the secured local profile: a CA, a server certificate for
 * 127.0.0.1 and localhost, a client certificate for mutual TLS (all made by the `openssl`
 * CLI), and random passwords in files only their owner can read. Made once per state
 * folder; later starts reuse them, so clients keep working across restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianTool } from '../debian.ts';
import { run } from '../process.ts';

/** Days a generated certificate stays valid: a local profile is recreated long before. */
const CERT_DAYS = 825;

export interface CertFiles {
  /** The CA certificate clients trust. */
  ca: string;
  /** Server certificate (SAN IP 127.0.0.1, DNS localhost) and its key. */
  serverCert: string;
  serverKey: string;
  /** Client certificate (CN crm-client) and its key, for mutual TLS. */
  clientCert: string;
  clientKey: string;
}

export function certFiles(certsDir: string): CertFiles {
  return {
    ca: join(certsDir, 'ca.pem'),
    serverCert: join(certsDir, 'server.pem'),
    serverKey: join(certsDir, 'server.key'),
    clientCert: join(certsDir, 'client.pem'),
    clientKey: join(certsDir, 'client.key'),
  };
}

/** Writes a file only its owner can read or write (also when it existed with wider rights). */
export function writePrivate(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Creates the CA and the server and client certificates unless all exist already. */
export async function ensureCerts(certsDir: string): Promise<CertFiles> {
  const files = certFiles(certsDir);
  if (Object.values(files).every((f) => existsSync(f))) return files;
  const openssl = await ensureDebianTool('openssl', 'openssl', 'the secured local profile (certificates)');
  mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const caKey = join(certsDir, 'ca.key');
  const sh = (args: string[], what: string) => run(openssl, args, what, certsDir);
  await sh(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      files.ca,
      '-days',
      String(CERT_DAYS),
      '-subj',
      '/CN=crm local secure profile CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    'creating the local CA',
  );
  const sign = async (cert: string, key: string, cn: string, extensions: string) => {
    const csr = `${cert}.csr`;
    const ext = `${cert}.ext`;
    writeFileSync(ext, extensions);
    await sh(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`], `creating the key of ${cn}`);
    await sh(
      ['x509', '-req', '-in', csr, '-CA', files.ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', String(CERT_DAYS), '-extfile', ext],
      `signing the certificate of ${cn}`,
    );
    rmSync(csr);
    rmSync(ext);
    chmodSync(key, 0o600);
  };
  // The broker also uses the server certificate as a client (to its controller), hence clientAuth.
  await sign(
    files.serverCert,
    files.serverKey,
    'localhost',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  await sign(
    files.clientCert,
    files.clientKey,
    'crm-client',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  chmodSync(caKey, 0o600);
  return files;
}

/** The password in `<secretsDir>/<name>.password`, made (random, mode 0600) on first use. */
export function ensureSecret(secretsDir: string, name: string): { file: string; value: string } {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const file = join(secretsDir, `${name}.password`);
  if (!existsSync(file)) writePrivate(file, randomBytes(24).toString('base64url'));
  return { file, value: readFileSync(file, 'utf8').trim() };
}
