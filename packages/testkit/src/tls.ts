/**
 * Throwaway certificates for tests of TLS connections, made with openssl: a CA and
 * certificates it signs for 127.0.0.1, P-256 keys, valid a day, all in one directory.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** Arguments of `openssl req` for a new P-256 key in `<name>.key`, subject CN=`name`. */
const newKey = (name: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`];

/** A self-signed CA in `dir`: `<ca>.pem` and `<ca>.key`. */
export function makeCa(dir: string, ca: string): void {
  openssl(dir, ['req', '-x509', ...newKey(ca), '-out', `${ca}.pem`, '-days', '1']);
}

/** A certificate for 127.0.0.1 (server or client) that `ca` signs, in `dir`: `<name>.pem` and `<name>.key`. */
export function makeSignedCert(dir: string, ca: string, name: string): void {
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1\n');
  openssl(dir, ['req', ...newKey(name), '-out', `${name}.csr`]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  ]);
}
