/**
 * The whole system against the secured local servers (infra's secure profile: Kafka over
 * SASL_SSL and mutual TLS, Redis over TLS with the ACL users rendered from docs/redis-acl.conf,
 * the registry over HTTPS with basic auth), every program run as an operator runs it: a process
 * whose environment is the printed settings (`secureServers().env`) plus the test's isolation.
 *
 * Events go in through clients built with the same settings (Avro through the registry); the
 * segmenter (SCRAM-SHA-512, Redis user `segmenter`) turns them into segment changes on the
 * output topic; the lag monitor and `crm lag` read the group's lag; the profile API (HTTPS, Redis
 * user `reader`) and `crm customer show` read the customer, and agree with the last change.
 * Tokens outside their scope get 403, a token over its rate 429, no token 401; the reader's
 * settings cannot write. No process writes a password, a token or a private key, nor a NOPERM:
 * the documented least-privilege users are enough. A second segmenter runs over the mutual-TLS
 * listener with a client certificate and no password.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InputEvent, SegmentChangeEvent, TOPICS, type Topic, decodeInput, encodeOutputs, suffixedTopics, topicOfType } from '@crm/contracts';
import { kafkaConnection, kafkaOptions, redisConnection, redisOptions, registryConnection, registryOptions } from '@crm/service-kit';
import {
  type Collected,
  DAY_MS,
  collectMessages,
  createTopic,
  freePort,
  generateEvents,
  readTopic,
  secureKeyPrefix,
  secureRedisOptions,
  secureServers,
  uniqueName,
  waitFor,
} from '@crm/testkit';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  LAG_MONITOR,
  PROFILE_API,
  type Run,
  SEGMENTER,
  type SecureServers,
  httpGet,
  leaked,
  linesMatching,
  listeningAddress,
  profileSecrets,
  run,
  stop,
  without,
  REFUSED_COMMAND,
} from './helpers.ts';

const PARTITIONS = 2;
const SASL_VARIABLES = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD_FILE'];
/** The API's clients: everything, counts only (a dashboard), and one with a rate of a request per 1000 s. */
const CONSOLE_TOKEN = 'tok_journey_console_00000000000001';
const DASHBOARD_TOKEN = 'tok_journey_dashboard_0000000000001';
const TIGHT_TOKEN = 'tok_journey_tight_rate_000000000001';
const METRICS_TOKEN = 'tok_journey_metrics_scrape_00000001';

/** One run's isolation: topics with a suffix, Redis keys under a `crm-` prefix, its own group. */
interface Isolation {
  suffix: string;
  prefix: string;
  group: string;
  topics: ReturnType<typeof suffixedTopics>;
}

function isolation(name: string): Isolation {
  const suffix = `.${uniqueName(name)}`;
  return { suffix, prefix: secureKeyPrefix(), group: `crm-${uniqueName(name)}`, topics: suffixedTopics(suffix) };
}

/** A kafkajs client built from `env` the way the services build theirs. */
const kafkaFrom = (env: Record<string, string>) =>
  new Kafka(kafkaOptions(kafkaConnection(env, (env['KAFKA_BROKERS'] ?? '').split(',')), { clientId: uniqueName('journey'), logLevel: logLevel.NOTHING }));

describe('the system on the secured servers', () => {
  let s: SecureServers;
  let registry: SchemaRegistry;
  let admin: Redis;
  const dir = mkdtempSync(join(tmpdir(), 'crm-journey-'));
  const tokensFile = join(dir, 'tokens.json');
  const metricsTokenFile = join(dir, 'metrics-token');
  const isolations: Isolation[] = [];
  /** Every process started, for the search of their output. */
  const runs: Run[] = [];
  const start = (script: string, env: Record<string, string>, args: string[] = []) => {
    const r = run(script, env, args);
    runs.push(r);
    return r;
  };

  beforeAll(async () => {
    s = await secureServers();
    registry = new SchemaRegistry(registryOptions(registryConnection(s.env, s.schemaRegistryUrl)));
    admin = new Redis(secureRedisOptions(s, 'admin'));
    writeFileSync(
      tokensFile,
      JSON.stringify([
        { token: CONSOLE_TOKEN, name: 'console', scopes: ['customers:read', 'segments:read'] },
        { token: DASHBOARD_TOKEN, name: 'dashboard', scopes: ['segments:read'] },
        { token: TIGHT_TOKEN, name: 'tight', scopes: ['customers:read'], rateLimit: { perSecond: 0.001, burst: 1 } },
      ]),
    );
    writeFileSync(metricsTokenFile, `${METRICS_TOKEN}\n`);
  });

  afterAll(async () => {
    await Promise.all(runs.map(stop));
    const kafkaAdmin = kafkaFrom(s.env).admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.deleteTopics({ topics: isolations.flatMap((i) => Object.values(i.topics)) }).catch(() => undefined);
    await kafkaAdmin.disconnect();
    for (const { prefix } of isolations) {
      for await (const keys of admin.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<string[]>)
        if (keys.length > 0) await admin.del(...keys);
    }
    admin?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Topics of a new isolation, created with the shared settings' admin client. */
  async function isolate(name: string): Promise<Isolation> {
    const iso = isolation(name);
    isolations.push(iso);
    const kafkaAdmin = kafkaFrom(s.env).admin();
    await kafkaAdmin.connect();
    for (const t of Object.values(iso.topics)) await createTopic(kafkaAdmin, t, PARTITIONS);
    await kafkaAdmin.disconnect();
    return iso;
  }

  /** Produces `events` to their topics, Avro-encoded through the registry, with `kafka`. */
  async function produce(kafka: Kafka, iso: Isolation, events: InputEvent[]): Promise<void> {
    const byTopic = new Map<Topic, InputEvent[]>();
    for (const e of events) {
      const t = topicOfType(e.type) as Topic;
      byTopic.set(t, [...(byTopic.get(t) ?? []), e]);
    }
    const producer = kafka.producer();
    await producer.connect();
    await producer.sendBatch({
      topicMessages: await Promise.all(
        [...byTopic].map(async ([t, es]) => ({
          topic: `${t}${iso.suffix}`,
          messages: (await encodeOutputs(t, es as never[], registry)).map((value, i) => ({ key: es[i]?.subject ?? null, value })),
        })),
      ),
    });
    await producer.disconnect();
  }

  /** The changes in `messages`, decoded through the registry (Avro only: the segmenter writes through it). */
  async function decodeChanges(messages: Collected[]): Promise<SegmentChangeEvent[]> {
    return Promise.all(
      messages.map(async (m) => {
        const decoded = await decodeInput(TOPICS.segmentChanges, m.message.value, registry);
        if (!decoded.ok) throw new Error(`undecodable change: ${decoded.error.message}`);
        expect(decoded.format).toBe('avro');
        return SegmentChangeEvent.parse(decoded.event);
      }),
    );
  }

  /** The segmenter's settings: the printed ones, the isolation, fast timers. */
  const segmenterEnv = (iso: Isolation, env: Record<string, string>, port: number) => ({
    ...env,
    CRM_KEY_PREFIX: iso.prefix,
    CRM_TOPIC_SUFFIX: iso.suffix,
    CRM_GROUP_ID: iso.group,
    CRM_PARTITIONS: String(PARTITIONS),
    CRM_HTTP_PORT: String(port),
    CRM_TIMER_INTERVAL_MS: '50',
    CRM_METRICS_TOKEN_FILE: metricsTokenFile,
  });

  it('events in, segment changes out, lag read, the customer read through the API and the CLI, with least privilege and no secret written', async () => {
    const iso = await isolate('journey');
    const segmenterPort = await freePort();
    const segmenter = start(SEGMENTER, segmenterEnv(iso, s.env, segmenterPort));

    const now = Date.now();
    const events = generateEvents({ seed: 13, customers: 12, events: 150, start: now - 60 * DAY_MS, end: now - 60_000, prefix: 'journey' });
    await produce(kafkaFrom(s.env), iso, events);

    // The lag monitor, over SASL_SSL too, watching the segmenter's group; /lag wants the metrics token.
    const lagMonitor = start(LAG_MONITOR, {
      ...s.env,
      LAG_GROUPS: iso.group,
      LAG_HTTP_PORT: '0',
      LAG_INTERVAL_MS: '300',
      CRM_METRICS_TOKEN_FILE: metricsTokenFile,
    });
    const lagPort = await waitFor('the lag monitor started', () => {
      const line = lagMonitor
        .output()
        .split('\n')
        .find((l) => l.includes('"msg":"lag monitor started"'));
      return line === undefined ? undefined : (JSON.parse(line) as { port: number }).port;
    });
    expect((await httpGet(`http://127.0.0.1:${lagPort}/lag`)).status).toBe(401);
    // Every record committed, nothing behind.
    await waitFor(
      'the lag monitor to see every event consumed',
      async () => {
        const res = await httpGet(`http://127.0.0.1:${lagPort}/lag`, { token: METRICS_TOKEN });
        if (res.status !== 200) return false;
        const rows = (
          JSON.parse(res.body) as { groups: Array<{ group: string; rows: Array<{ committedOffset: number; lagMessages: number }> }> }
        ).groups.flatMap((g) => g.rows);
        return rows.reduce((n, r) => n + r.committedOffset, 0) === events.length && rows.every((r) => r.lagMessages === 0);
      },
      { timeoutMs: 90_000 },
    );
    // Relayed: every partition's outbox empty (read as the operator).
    await waitFor('the outbox relayed', async () => {
      let pending = 0;
      for (let p = 0; p < PARTITIONS; p++) pending += await admin.xlen(`${iso.prefix}:{${p}}:outbox`);
      return pending === 0;
    });

    // The segmenter is ready; its /metrics wants the metrics token.
    const readyz = await httpGet(`http://127.0.0.1:${segmenterPort}/readyz`);
    expect(readyz.status, readyz.body).toBe(200);
    expect((await httpGet(`http://127.0.0.1:${segmenterPort}/metrics`)).status).toBe(401);
    expect((await httpGet(`http://127.0.0.1:${segmenterPort}/metrics`, { token: METRICS_TOKEN })).body).toContain('crm_segment_changes_relayed_total');

    // Segment changes out, Avro through the registry over HTTPS, for every customer.
    const changes = await decodeChanges(await readTopic(kafkaFrom(s.env), iso.topics.segmentChanges));
    const customers = [...new Set(events.map((e) => e.subject))];
    expect(new Set(changes.map((c) => c.subject))).toEqual(new Set(customers));
    const customer = customers[0] as string;
    const lastStage = changes.filter((c) => c.subject === customer && c.data.dimension === 'stage').at(-1)?.data.to;
    expect(lastStage).toEqual(expect.any(String));

    // `crm lag` agrees: the group is caught up.
    const cliEnv = { ...s.env, CRM_KEY_PREFIX: iso.prefix, CRM_TOPIC_SUFFIX: iso.suffix };
    const lag = start(CLI, cliEnv, ['lag', '--group', iso.group, '--json']);
    expect(await lag.exited, lag.output()).toBe(0);
    const lagRows = (JSON.parse(lag.output()) as { groups: Array<{ rows: Array<{ lagMessages: number }> }> }).groups.flatMap((g) => g.rows);
    expect(lagRows.length).toBeGreaterThan(0);
    expect(lagRows.every((r) => r.lagMessages === 0)).toBe(true);

    // The profile API over HTTPS, as the read-only Redis user.
    const apiEnv = {
      ...s.env,
      ...s.readerEnv,
      CRM_KEY_PREFIX: iso.prefix,
      CRM_TOPIC_SUFFIX: iso.suffix,
      CRM_PARTITIONS: String(PARTITIONS),
      PROFILE_API_PORT: '0',
      PROFILE_API_HOST: '127.0.0.1',
      PROFILE_API_TOKENS_FILE: tokensFile,
      PROFILE_API_TLS_CERT_FILE: s.certs.serverCert,
      PROFILE_API_TLS_KEY_FILE: s.certs.serverKey,
      CRM_METRICS_TOKEN_FILE: metricsTokenFile,
    };
    const api = start(PROFILE_API, apiEnv);
    const address = await waitFor(
      'the profile API listening',
      () => listeningAddress(api, 'profile API listening') ?? (api.child.exitCode !== null ? 'exited' : undefined),
    );
    expect(address, api.output()).toMatch(/^https:/);
    const ca = readFileSync(s.certs.ca, 'utf8');
    const get = (path: string, token?: string) => httpGet(`${address}${path}`, { ca, ...(token === undefined ? {} : { token }) });
    const path = `/customers/${encodeURIComponent(customer)}`;

    const read = await get(path, CONSOLE_TOKEN);
    expect(read.status, read.body).toBe(200);
    expect((JSON.parse(read.body) as { memberships: { stage: string } }).memberships.stage).toBe(lastStage);
    expect((await get('/segments', DASHBOARD_TOKEN)).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    // Refusals: no token, a token outside its scope, a token over its rate, the metrics token elsewhere.
    expect((await get(path)).status).toBe(401);
    const forbidden = await get(path, DASHBOARD_TOKEN);
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.body)).toMatchObject({ error: 'forbidden', message: 'token dashboard lacks the scope customers:read this route needs' });
    expect((await get(path, TIGHT_TOKEN)).status).toBe(200);
    const limited = await get(path, TIGHT_TOKEN);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get('/metrics', CONSOLE_TOKEN)).status).toBe(401);
    expect((await get('/metrics', METRICS_TOKEN)).body).toMatch(/crm_api_requests_denied_total\{reason="forbidden",token="dashboard"\} 1/);

    // `crm customer show`, as the reader too (the partition count from Kafka over SASL_SSL).
    const show = start(CLI, { ...cliEnv, ...s.readerEnv }, ['customer', 'show', customer, '--json']);
    expect(await show.exited, show.output()).toBe(0);
    expect((JSON.parse(show.output()) as { memberships: { stage: string } }).memberships.stage).toBe(lastStage);

    // The reader's settings cannot write: Redis answers NOPERM.
    const reader = new Redis(redisOptions(redisConnection({ ...s.env, ...s.readerEnv }, s.redisUrl), { maxRetriesPerRequest: 0 }));
    try {
      await expect(reader.hset(`${iso.prefix}:{0}:state`, customer, 'forged')).rejects.toThrow(/NOPERM/);
      await expect(reader.del(`${iso.prefix}:{0}:fence`)).rejects.toThrow(/NOPERM/);
    } finally {
      reader.disconnect();
    }

    for (const r of [segmenter, lagMonitor, api]) expect(await stop(r)).toBe(0);
    const secrets = [...profileSecrets(s), CONSOLE_TOKEN, DASHBOARD_TOKEN, TIGHT_TOKEN, METRICS_TOKEN];
    for (const r of runs) {
      expect(leaked(r.output(), secrets)).toEqual([]);
      expect(linesMatching(r.output(), REFUSED_COMMAND)).toEqual([]);
    }
    // Customer ids are personal data: the services' logs hold none (the CLI prints what it is asked for).
    for (const r of [segmenter, lagMonitor, api]) expect(linesMatching(r.output(), /\bjourney\d+\b/)).toEqual([]);
  });

  it('runs the segmenter over the mutual-TLS listener: a client certificate, no password', async () => {
    const iso = await isolate('mtls');
    const mtls = { ...without(s.env, SASL_VARIABLES), ...s.mtlsEnv };
    expect(mtls['KAFKA_SECURITY_PROTOCOL']).toBe('SSL');
    const segmenter = start(SEGMENTER, segmenterEnv(iso, mtls, 0));
    const now = Date.now();
    const events = generateEvents({ seed: 14, customers: 5, events: 30, start: now - 10 * DAY_MS, end: now - 60_000, prefix: 'mtls' });
    await produce(kafkaFrom(mtls), iso, events);
    const customers = new Set(events.map((e) => e.subject));
    const out = await collectMessages(
      kafkaFrom(mtls),
      iso.topics.segmentChanges,
      (m) => new Set(m.map((c) => c.message.key?.toString())).size >= customers.size,
      90_000,
    );
    const changes = await decodeChanges(out);
    expect(new Set(changes.map((c) => c.subject))).toEqual(customers);
    expect(await stop(segmenter)).toBe(0);
    expect(leaked(segmenter.output(), profileSecrets(s))).toEqual([]);
  });
});
