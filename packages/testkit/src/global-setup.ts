/**
 * Vitest global setup of the integration project: finds real servers for the tests.
 *
 * 1. KAFKA_BROKERS, REDIS_URL and SCHEMA_REGISTRY_URL, when all three are set;
 * 2. else testcontainers, when a Docker engine answers;
 * 3. else the local infra (infra/: Kafka and the registry from Maven Central, Redis from Debian).
 *
 * It logs which path it took and the server versions, provides the endpoints to the test
 * workers (inject('endpoints')) and stops at teardown what it started itself
 * (CRM_KEEP_INFRA=1 keeps local servers running for the next run).
 *
 * The secured servers (secure.ts) start on demand in a worker; at teardown they are stopped
 * when they were not running before the run (unless CRM_KEEP_INFRA=1).
 */
import type { TestProject } from 'vitest/node';
import { down, downSecure, secureRunning, up } from '@crm/infra';
import { type TestEndpoints, serverVersions } from './endpoints.ts';
import { startContainers } from './containers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: TestEndpoints;
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env;
  let endpoints: TestEndpoints;
  let teardown = async (): Promise<void> => undefined;
  const secureWasRunning = secureRunning();

  if (env['KAFKA_BROKERS'] && env['REDIS_URL'] && env['SCHEMA_REGISTRY_URL']) {
    endpoints = { kafkaBrokers: env['KAFKA_BROKERS'], redisUrl: env['REDIS_URL'], schemaRegistryUrl: env['SCHEMA_REGISTRY_URL'], path: 'environment' };
  } else if (await dockerAnswers()) {
    const containers = await startContainers();
    endpoints = { ...containers.endpoints, path: 'testcontainers' };
    teardown = containers.stop;
  } else {
    const res = await up();
    endpoints = { kafkaBrokers: res.kafkaBrokers, redisUrl: res.redisUrl, schemaRegistryUrl: res.schemaRegistryUrl, path: 'local infra' };
    if (res.started.length > 0 && env['CRM_KEEP_INFRA'] !== '1') teardown = async () => void (await down());
  }

  const versions = await serverVersions(endpoints);
  console.log(
    `[integration] servers via ${endpoints.path}: Kafka ${versions.kafka} at ${endpoints.kafkaBrokers}; ` +
      `Redis ${versions.redis} at ${endpoints.redisUrl}; ${versions.registry} at ${endpoints.schemaRegistryUrl}`,
  );
  for (const [k, v] of [
    ['KAFKA_BROKERS', endpoints.kafkaBrokers],
    ['REDIS_URL', endpoints.redisUrl],
    ['SCHEMA_REGISTRY_URL', endpoints.schemaRegistryUrl],
  ] as const) {
    process.env[k] = v;
  }
  project.provide('endpoints', endpoints);
  return async () => {
    if (!secureWasRunning && env['CRM_KEEP_INFRA'] !== '1' && secureRunning()) await downSecure();
    await teardown();
  };
}
