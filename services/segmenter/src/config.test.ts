import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { assertCoPartitioned } from './topics.ts';

const ok = { KAFKA_BROKERS: '127.0.0.1:19092', REDIS_URL: 'redis://127.0.0.1:16379' };

describe('configuration', () => {
  it('takes defaults for everything optional', () => {
    const c = loadConfig(ok);
    expect(c).toMatchObject({ groupId: 'crm-segmenter', partitions: 6, clock: 'wall', keyPrefix: 'crm' });
    expect(c.topics.orders).toBe('commerce.orders.v1');
    expect(c.http).toEqual({ port: 9464, host: '127.0.0.1', metricsToken: undefined });
    expect(c.kafka).toEqual({ brokers: ['127.0.0.1:19092'], protocol: 'PLAINTEXT', ssl: undefined, sasl: undefined });
    expect(c.redis.options).toEqual({ host: '127.0.0.1', port: 16379 });
    expect(c.registry).toBeUndefined();
  });

  it('stops at start naming each bad variable and what was expected', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/KAFKA_BROKERS: is required: a comma-separated list of host:port/);
    expect(() => loadConfig({ ...ok, CRM_CLOCK: 'sundial' })).toThrow(/CRM_CLOCK: .*(wall|stream).*\(got "sundial"\)/);
    expect(() => loadConfig({ ...ok, CRM_PARTITIONS: '0' })).toThrow(/CRM_PARTITIONS/);
    // Integers are plain decimal digits: 1e3 would create 1,000 partitions, 0x10 would read as 16.
    expect(() => loadConfig({ ...ok, CRM_PARTITIONS: '1e3' })).toThrow(
      /CRM_PARTITIONS: must be a whole number from 1 to 1024, in decimal digits \(got "1e3"\)/,
    );
    expect(() => loadConfig({ ...ok, CRM_TIMER_BATCH: '0x10' })).toThrow(/CRM_TIMER_BATCH: .*decimal digits \(got "0x10"\)/);
    expect(() => loadConfig({ ...ok, REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => loadConfig({ ...ok, REDIS_TLS_CA_FILE: '/ca.pem' })).toThrow(/REDIS_TLS_CA_FILE: needs a rediss:\/\/ REDIS_URL/);
    expect(() => loadConfig({ ...ok, SCHEMA_REGISTRY_URL: 'http://r:1', SCHEMA_REGISTRY_USERNAME: 'u' })).toThrow(/SCHEMA_REGISTRY_USERNAME: needs a password/);
  });

  it('reads the event-time bounds, defaulting to 2000-01-01 and one day of skew', () => {
    expect(loadConfig(ok).eventTimeBounds).toEqual({ minEventTime: Date.parse('2000-01-01T00:00:00Z'), maxFutureSkewMs: 86_400_000 });
    expect(loadConfig({ ...ok, CRM_MIN_EVENT_TIME: '2010-01-01T00:00:00Z', CRM_MAX_FUTURE_SKEW_MS: '0' }).eventTimeBounds).toEqual({
      minEventTime: Date.parse('2010-01-01T00:00:00Z'),
      maxFutureSkewMs: 0,
    });
    expect(() => loadConfig({ ...ok, CRM_MIN_EVENT_TIME: '2010-01-01' })).toThrow(/CRM_MIN_EVENT_TIME: must be an ISO-8601 UTC timestamp/);
    expect(() => loadConfig({ ...ok, CRM_MAX_FUTURE_SKEW_MS: '1d' })).toThrow(/CRM_MAX_FUTURE_SKEW_MS: .*decimal digits/);
  });

  it('reads CRM_AS_OF (end or an instant), only with CRM_MODE=backfill', () => {
    expect(loadConfig(ok).asOf).toBeNull();
    expect(loadConfig({ ...ok, CRM_MODE: 'backfill', CRM_AS_OF: 'end' }).asOf).toBe('end');
    expect(loadConfig({ ...ok, CRM_MODE: 'backfill', CRM_AS_OF: '2011-12-09T12:50:00Z' }).asOf).toBe(Date.parse('2011-12-09T12:50:00Z'));
    expect(() => loadConfig({ ...ok, CRM_MODE: 'backfill', CRM_AS_OF: 'yesterday' })).toThrow(
      /CRM_AS_OF: must be end or an ISO-8601 UTC timestamp, .*\(got "yesterday"\)/,
    );
    expect(() => loadConfig({ ...ok, CRM_AS_OF: 'end' })).toThrow(/CRM_AS_OF: needs CRM_MODE=backfill/);
  });

  it('reads CRM_FETCH_WAIT_MS (5 ms unless told; 0 turns the wait off)', () => {
    expect(loadConfig(ok).fetchWaitMs).toBe(5);
    expect(loadConfig({ ...ok, CRM_FETCH_WAIT_MS: '0' }).fetchWaitMs).toBe(0);
    expect(() => loadConfig({ ...ok, CRM_FETCH_WAIT_MS: '5ms' })).toThrow(/CRM_FETCH_WAIT_MS: .*decimal digits \(got "5ms"\)/);
    expect(() => loadConfig({ ...ok, CRM_FETCH_WAIT_MS: '5000' })).toThrow(/CRM_FETCH_WAIT_MS: must be a whole number from 0 to 1000/);
  });

  it('names a domain configuration file that is not JSON or breaks the rules', () => {
    expect(() => loadConfig({ ...ok, CRM_DOMAIN_CONFIG: '/nonexistent/domain.json' })).toThrow(/CRM_DOMAIN_CONFIG: cannot read JSON/);
  });
});

describe('co-partitioning check', () => {
  it('refuses input topics with different partition counts, naming each count', () => {
    expect(() =>
      assertCoPartitioned(
        new Map([
          ['a', 6],
          ['b', 6],
          ['c', 3],
        ]),
        ['a', 'b', 'c'],
      ),
    ).toThrow(/not co-partitioned \(a: 6, b: 6, c: 3\)/);
    expect(
      assertCoPartitioned(
        new Map([
          ['a', 6],
          ['b', 6],
        ]),
        ['a', 'b'],
      ),
    ).toBe(6);
  });
});
