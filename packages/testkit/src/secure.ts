/**
 * The secured local servers for integration tests: Kafka over SASL_SSL and mutual TLS, Redis
 * over TLS with ACL users, the registry over HTTPS with basic auth (infra's secure profile).
 *
 * Started on demand, once per test run: the first `secureServers()` in any worker starts them
 * (`upSecure` serialises workers with a lock and reuses running servers), and the global setup
 * stops them at the end of the run when they were not running before it (CRM_KEEP_INFRA=1
 * keeps them). Tests isolate by topic names and by Redis key prefixes `crm-<random>` (the
 * prefixes the ACL users may touch).
 */
import { readFileSync } from 'node:fs';
import { type SecureUpResult, upSecure } from '@crm/infra';
import type { RedisOptions } from 'ioredis';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { uniqueName } from './helpers.ts';

let pending: Promise<SecureUpResult> | undefined;

/** The secured servers' endpoints, files and settings; starts them on the first call of the run. */
export function secureServers(): Promise<SecureUpResult> {
  pending ??= upSecure();
  return pending;
}

/** The content of a password file. */
export function readSecret(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

/** A kafkajs configuration for the SASL_SSL listener (trusting the profile's CA), with `sasl` overrides. */
export function secureKafkaConfig(
  s: SecureUpResult,
  sasl: { mechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username?: string; password?: string } = {},
): KafkaConfig {
  return {
    brokers: [s.kafkaBrokers],
    ssl: { ca: [readFileSync(s.certs.ca, 'utf8')] },
    sasl: {
      mechanism: 'scram-sha-512',
      username: s.users.kafka.username,
      password: readSecret(s.users.kafka.passwordFile),
      ...sasl,
    } as SASLOptions,
  };
}

/** ioredis options for the TLS port as one of the ACL users (`segmenter`, `reader` or `admin`). */
export function secureRedisOptions(s: SecureUpResult, user: 'segmenter' | 'reader' | 'admin'): RedisOptions {
  const u = { segmenter: s.users.redisSegmenter, reader: s.users.redisReader, admin: s.users.redisAdmin }[user];
  const url = new URL(s.redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port),
    username: u.username,
    password: readSecret(u.passwordFile),
    tls: { ca: readFileSync(s.certs.ca, 'utf8') },
  };
}

/** A Redis key prefix the ACL users may touch, unique to the caller (`crm-<random>`). */
export function secureKeyPrefix(): string {
  return uniqueName('crm');
}
