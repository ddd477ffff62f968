/** The secure profile's configuration, generated material and settings, without servers (openssl is real). */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureCerts, ensureSecret } from './certs.ts';
import { secureConfig, secureRequested } from './config.ts';
import { envFileText, secureProfile } from './index.ts';
import { documentedRules, type Passwords, renderRedisAcl } from './servers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'crm-secure-test-'));

describe('secure configuration', () => {
  it('puts every secure port next to the plain one, in its own state folder', () => {
    const cfg = secureConfig({ CRM_INFRA_DIR: '/x' });
    expect(cfg.dir).toBe('/x/secure');
    expect([cfg.kafkaPort, cfg.kafkaControllerPort, cfg.kafkaMtlsPort, cfg.redisPort, cfg.registryPort, cfg.registryMgmtPort]).toEqual([
      19192, 19193, 19194, 16479, 18181, 19181,
    ]);
    const moved = secureConfig({ CRM_INFRA_DIR: '/x', CRM_SECURE_KAFKA_PORT: '30000', CRM_SECURE_REDIS_PORT: '30010' });
    expect([moved.kafkaPort, moved.kafkaMtlsPort, moved.redisPort]).toEqual([30000, 30002, 30010]);
  });

  it('names both variables when two ports collide, across profiles too', () => {
    expect(() => secureConfig({ CRM_SECURE_REDIS_PORT: '19092' })).toThrow(
      /CRM_KAFKA_PORT and CRM_SECURE_REDIS_PORT are both 19092|CRM_SECURE_REDIS_PORT.*CRM_KAFKA_PORT/,
    );
    expect(() => secureConfig({ CRM_SECURE_KAFKA_MTLS_PORT: '70000' })).toThrow(/CRM_SECURE_KAFKA_MTLS_PORT must be a port number/);
  });

  it('reads CRM_INFRA_SECURE strictly', () => {
    expect(secureRequested({ CRM_INFRA_SECURE: '1' })).toBe(true);
    expect(secureRequested({})).toBe(false);
    expect(() => secureRequested({ CRM_INFRA_SECURE: 'yes' })).toThrow(/CRM_INFRA_SECURE must be 1/);
  });
});

describe('generated material', () => {
  it('makes a CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, keys readable by their owner only', async () => {
    const dir = join(tmp(), 'certs');
    const files = await ensureCerts(dir);
    const ca = new X509Certificate(readFileSync(files.ca));
    const server = new X509Certificate(readFileSync(files.serverCert));
    const client = new X509Certificate(readFileSync(files.clientCert));
    expect(ca.ca).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(client.subject).toBe('CN=crm-client');
    expect(execFileSync('openssl', ['verify', '-CAfile', files.ca, '-purpose', 'sslclient', files.clientCert], { encoding: 'utf8' })).toMatch(/OK/);
    for (const key of [files.serverKey, files.clientKey, join(dir, 'ca.key')]) expect(statSync(key).mode & 0o777).toBe(0o600);
    // A second call keeps what exists: clients that trust the CA keep working across restarts.
    expect(readFileSync((await ensureCerts(dir)).ca, 'utf8')).toBe(readFileSync(files.ca, 'utf8'));
  });

  it('makes a random password once, in a file only its owner can read', () => {
    const dir = tmp();
    const a = ensureSecret(dir, 'kafka-crm');
    expect(a.value).toMatch(/^[\w-]{32}$/);
    expect(statSync(a.file).mode & 0o777).toBe(0o600);
    expect(ensureSecret(dir, 'kafka-crm').value).toBe(a.value);
    expect(ensureSecret(dir, 'redis-reader').value).not.toBe(a.value);
  });
});

describe('Redis ACL file', () => {
  const pw = { 'redis-segmenter': 's3cret', 'redis-reader': 'r3ader', 'redis-admin': 'adm1n' } as Passwords;
  const template = readFileSync(new URL('../../redis/users.acl', import.meta.url), 'utf8');
  const documented = readFileSync(new URL('../../../docs/redis-acl.conf', import.meta.url), 'utf8');
  const acl = renderRedisAcl(template, pw, documented);
  const lines = acl.trim().split('\n');
  const user = (name: string) => (lines.find((l) => l.split(' ')[1] === name) ?? '').split(' ');
  /** A documented user's command rules (`+cmd`, `-@cat`), in order. */
  const commands = (name: string) => (documented.split('\n').find((l) => l.startsWith(`user ${name} `)) ?? '').split(' ').filter((w) => /^[+-]/.test(w));

  it('drops comments and stores SHA-256 hashes, never a password', () => {
    expect(lines.every((l) => l.startsWith('user '))).toBe(true);
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['default', 'segmenter', 'reader', 'admin']);
    expect(acl).toContain(`#${createHash('sha256').update('r3ader').digest('hex')}`);
    for (const secret of Object.values(pw)) expect(acl).not.toContain(secret);
    expect(lines[0]).toMatch(/^user default off /);
    expect(acl).not.toContain('{{');
  });

  it("gives the services exactly docs/redis-acl.conf's command lists, on the profile's key patterns", () => {
    const segmenter = user('segmenter');
    expect(segmenter.filter((w) => /^[+-]/.test(w))).toEqual(commands('crm-segmenter'));
    expect(segmenter.filter((w) => w.includes('~'))).toEqual(['~crm:*', '~crm-*']);
    const reader = user('reader');
    expect(reader.filter((w) => /^[+-]/.test(w))).toEqual([...new Set([...commands('crm-profile-api'), ...commands('crm-console')])]);
    expect(reader.filter((w) => w.includes('~'))).toEqual(['%R~crm:*', '%R~crm-*']);
    // No category grant beyond the documented ones (the old template's +@read +@write +@scripting).
    expect(acl).not.toMatch(/\+@(read|write|scripting|transaction)/);
  });

  it('takes only command and channel rules from the documented users', () => {
    const rules = documentedRules('user a on >pw #abc ~crm:* %R~x:* allkeys resetchannels -@all +get\n# user b on +set\nuser c off nopass +ping');
    expect([...rules]).toEqual([
      ['a', ['resetchannels', '-@all', '+get']],
      ['c', ['+ping']],
    ]);
  });

  it('refuses a placeholder without a password or a documented user', () => {
    expect(() => renderRedisAcl('user x on #{{stranger}} +@all\n', pw, documented)).toThrow(/\{\{stranger\}\}/);
    expect(() => renderRedisAcl('user x on {{rules crm-nobody}}\n', pw, documented)).toThrow(/crm-nobody.*docs\/redis-acl\.conf/);
  });
});

describe('printed settings', () => {
  it('exports the agreed variable names, with the mutual-TLS and read-only variants commented, and no secret', () => {
    const profile = secureProfile(secureConfig({ CRM_INFRA_DIR: '/state' }));
    const text = envFileText(profile);
    for (const name of [
      'KAFKA_BROKERS=127.0.0.1:19192',
      'KAFKA_SECURITY_PROTOCOL=SASL_SSL',
      'KAFKA_SASL_MECHANISM=SCRAM-SHA-512',
      'KAFKA_SASL_USERNAME=crm',
      'KAFKA_SASL_PASSWORD_FILE=/state/secure/secrets/kafka-crm.password',
      'KAFKA_SSL_CA_FILE=/state/secure/certs/ca.pem',
      'REDIS_URL=rediss://127.0.0.1:16479',
      'REDIS_USERNAME=segmenter',
      'REDIS_PASSWORD_FILE=/state/secure/secrets/redis-segmenter.password',
      'REDIS_TLS_CA_FILE=',
      'REDIS_TLS_CERT_FILE=',
      'REDIS_TLS_KEY_FILE=',
      'REDIS_READER_USERNAME=reader',
      'SCHEMA_REGISTRY_URL=https://127.0.0.1:18181/apis/ccompat/v7',
      'SCHEMA_REGISTRY_CA_FILE=',
      'SCHEMA_REGISTRY_USERNAME=crm',
      'SCHEMA_REGISTRY_PASSWORD_FILE=',
    ]) {
      expect(text).toMatch(new RegExp(`^export ${name}`, 'm'));
    }
    expect(text).toMatch(/^# export KAFKA_SECURITY_PROTOCOL=SSL$/m);
    expect(text).toMatch(/^# export KAFKA_BROKERS=127\.0\.0\.1:19194$/m);
    expect(text).toMatch(/^# export REDIS_USERNAME=reader$/m);
    const sourced = execFileSync('bash', ['-c', `source /dev/stdin <<'EOF'\n${text}\nEOF\nprintf '%s|%s' "$KAFKA_SASL_MECHANISM" "$REDIS_USERNAME"`], {
      encoding: 'utf8',
    });
    expect(sourced).toBe('SCRAM-SHA-512|segmenter');
  });

  it('quotes a value with shell characters', () => {
    const profile = secureProfile(secureConfig({ CRM_INFRA_DIR: "/tmp/it's mine" }));
    const sourced = execFileSync('bash', ['-c', `source /dev/stdin <<'EOF'\n${envFileText(profile)}\nEOF\nprintf '%s' "$KAFKA_SSL_CA_FILE"`], {
      encoding: 'utf8',
    });
    expect(sourced).toBe("/tmp/it's mine/secure/certs/ca.pem");
  });
});
