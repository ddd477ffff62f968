import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const ok = { KAFKA_BROKERS: '127.0.0.1:19092' };

describe('configuration', () => {
  it('takes defaults for everything optional: every group whose id starts with crm-', () => {
    expect(loadConfig(ok)).toEqual({
      kafka: { brokers: ['127.0.0.1:19092'], protocol: 'PLAINTEXT', ssl: undefined, sasl: undefined },
      http: { port: 9465, host: '127.0.0.1', metricsToken: undefined },
      intervalMs: 5000,
      groups: { prefix: 'crm-' },
      probeTimeoutMs: 15_000,
      logLevel: 'info',
    });
  });

  it('watches a fixed list of groups, or the groups of another prefix', () => {
    expect(loadConfig({ ...ok, LAG_GROUPS: 'crm-segmenter,crm-profile-api,crm-segmenter' }).groups).toEqual({ groups: ['crm-segmenter', 'crm-profile-api'] });
    expect(loadConfig({ ...ok, LAG_GROUP_PREFIX: 'shop-' }).groups).toEqual({ prefix: 'shop-' });
  });

  it('stops at start naming each bad variable and what was expected', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/KAFKA_BROKERS: is required: a comma-separated list of host:port/);
    expect(() => loadConfig({ ...ok, LAG_HTTP_PORT: 'http' })).toThrow(/LAG_HTTP_PORT: .*\(got "http"\)/);
    expect(() => loadConfig({ ...ok, LAG_INTERVAL_MS: '5' })).toThrow(/LAG_INTERVAL_MS/);
    expect(() => loadConfig({ ...ok, LAG_GROUPS: 'a,,b' })).toThrow(/LAG_GROUPS: must be a comma-separated list of consumer group ids/);
    expect(() => loadConfig({ ...ok, LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL: .*\(got "loud"\)/);
    expect(() => loadConfig({ ...ok, KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' })).toThrow(/KAFKA_SASL_MECHANISM: is required with KAFKA_SECURITY_PROTOCOL=SASL_SSL/);
    expect(() => loadConfig({ ...ok, CRM_METRICS_TOKEN_FILE: '/nonexistent/token' })).toThrow(
      /CRM_METRICS_TOKEN_FILE: cannot read \/nonexistent\/token \(ENOENT\)/,
    );
  });

  it('refuses both a list of groups and a prefix', () => {
    expect(() => loadConfig({ ...ok, LAG_GROUPS: 'crm-segmenter', LAG_GROUP_PREFIX: 'crm-' })).toThrow(/LAG_GROUPS and LAG_GROUP_PREFIX are both set/);
  });
});
