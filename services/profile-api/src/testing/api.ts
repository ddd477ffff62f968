/**
 * A profile API over the shared test Redis under a key prefix of its own, with a tokens file
 * written for the test, and customers written straight into that prefix (no segmenter).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputEvent } from '@crm/contracts';
import { apply, defaultDomainConfig, encodeState } from '@crm/domain';
import { partitionFor, partitionKeys } from '@crm/store';
import { silentLogger, testEndpoints, uniqueName } from '@crm/testkit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type ProfileApiConfig, loadConfig } from '../config.ts';
import { ProfileApi } from '../service.ts';

export const PARTITIONS = 3;

export interface TestApi {
  api: ProfileApi;
  config: ProfileApiConfig;
  prefix: string;
}

/** An API (not started) whose tokens file holds `tokens` (the file's JSON entries); `env` adds or overrides variables. */
export function testApi(tokens: unknown[], { env = {}, log = silentLogger }: { env?: Record<string, string>; log?: Logger } = {}): TestApi {
  const dir = mkdtempSync(join(tmpdir(), 'profile-api-test-'));
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(tokens));
  const prefix = uniqueName('api');
  const config = loadConfig({
    REDIS_URL: testEndpoints().redisUrl,
    CRM_KEY_PREFIX: prefix,
    CRM_PARTITIONS: String(PARTITIONS),
    PROFILE_API_TOKENS_FILE: join(dir, 'tokens.json'),
    ...env,
  });
  return { api: new ProfileApi(config, log), config, prefix };
}

/** The encoded state of a customer who just registered. */
export function registeredState(customerId: string): string {
  const event: InputEvent = {
    specversion: '1.0',
    id: `reg-${customerId}`,
    time: new Date().toISOString(),
    subject: customerId,
    source: 'urn:test:profiles',
    type: 'customer.registered',
    data: { signupChannel: 'web', marketingConsent: true },
  };
  return encodeState(apply(null, event, defaultDomainConfig).state);
}

/** Writes `record` (`<version>|<history>|<state>`, or anything, corrupt) as the customer's record. */
export async function writeRecord(redis: Redis, prefix: string, customerId: string, record: string): Promise<void> {
  await redis.hset(partitionKeys(prefix, partitionFor(customerId, PARTITIONS)).state, customerId, record);
}
