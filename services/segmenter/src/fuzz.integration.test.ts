/**
 * Fuzzing the input: no record stops a partition or poisons a customer. 10,000 bad records
 * made by fast-check — random bytes, a wrong magic byte, truncated Avro, unknown schema ids,
 * missing and huge fields, absurd numbers and dates, null and mismatched keys — and a few
 * records near the broker's 1 MB limit, shuffled among 3,000 good events of 300 customers and
 * produced as fast as one producer can, while the segmenter runs. Then:
 * - no partition stalls: every fence reaches its topic's end offset;
 * - every bad record is dead-lettered exactly once (letters deduplicated by their source
 *   coordinates, as a consumer would) with the reason and field its construction implies, and
 *   the metric counts each once;
 * - every good event is applied, and every customer's state equals a from-scratch
 *   recomputation over the good events alone.
 */
import { type DeadLetterEvent, type InputEvent, type InputTopic, TOPICS, chunkByBytes, decodeInput, encodeOutput } from '@crm/contracts';
import { DAY_MS, generateEvents, prng, readTopic } from '@crm/testkit';
import fc from 'fast-check';
import type { Message } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { expectStatesEqualRecomputation, fixture, topicOf, waitUntilAllApplied } from './testing/harness.ts';

const PARTITIONS = 3;
const GOOD = 3_000;
const CUSTOMERS = 300;
const BAD = 10_000;
/** Records near 1 MB (each produced in a request of its own: the broker takes at most 1 MiB at once). */
const NEAR_MB = 3;
const NEAR_MB_BYTES = 900_000;
/** Avro-encoded templates to truncate. */
const AVRO_TEMPLATES = 100;
const HEADER = 'fuzz';

/** A bad record and what the segmenter must say about it. */
interface Bad {
  topic: string;
  key: string | null;
  value: Buffer;
  reason: string;
  /** The field the letter must name, when the reason has one. */
  field?: string;
}

const json = (x: unknown) => Buffer.from(JSON.stringify(x));
/** First bytes that make a value Avro (0x00), JSON ('{', after blanks or a BOM): anything else is unknown_format. */
const DECODABLE_STARTS = new Set([0x00, 0x7b, 0x20, 0x09, 0x0a, 0x0d, 0xef]);
const iso = (y: number, rest = '-06-01T00:00:00Z') => `${String(y).padStart(4, '0')}${rest}`;

describe('fuzzed input', () => {
  const f = fixture({ CRM_PARTITIONS: String(PARTITIONS), CRM_LOG_LEVEL: 'fatal' });
  const { config, kafka, redis, registry } = f;
  afterAll(() => f.close());

  it(`dead-letters each of ${BAD + NEAR_MB} bad records once, applies ${GOOD} good events, and no partition stalls`, async () => {
    const now = Date.now();
    const good = generateEvents({ seed: 5, customers: CUSTOMERS, events: GOOD, start: now - 25 * DAY_MS, end: now - 60_000, prefix: 'fz' });
    // Templates of bad records: good events with ids of their own, so that a bad record wrongly
    // accepted would change its customer's state (and fail the recomputation check).
    const templates = good.map((e, i): InputEvent => ({ ...e, id: `${e.id}-bad${i}` }));
    const orders = templates.filter((e) => e.type.startsWith('commerce.'));
    const contract = new Map<string, InputTopic>([
      [config.topics.orders, TOPICS.orders],
      [config.topics.interactions, TOPICS.interactions],
      [config.topics.profiles, TOPICS.profiles],
    ]);
    const contractTopic = (e: InputEvent) => contract.get(topicOf(config, e)) as InputTopic;
    const avro = await Promise.all(templates.slice(0, AVRO_TEMPLATES).map(async (e) => ({ e, bytes: await encodeOutput(contractTopic(e), e, registry) })));
    const inputTopics = [config.topics.orders, config.topics.interactions, config.topics.profiles];
    const template = fc.constantFrom(...templates);
    const anyTopic = fc.constantFrom(...inputTopics);
    // No key, a short one, or a huge one (the letter keeps its first KiB).
    const someKey = fc.oneof(
      fc.constant(null),
      fc.string({ minLength: 1, maxLength: 20 }),
      fc.integer({ min: 2_000, max: 50_000 }).map((n) => 'k'.repeat(n)),
    );

    const bad: fc.Arbitrary<Bad> = fc.oneof(
      // Random bytes that are neither wire format nor JSON.
      fc
        .record({ topic: anyTopic, key: someKey, value: fc.uint8Array({ minLength: 1, maxLength: 300 }) })
        .filter(({ value }) => !DECODABLE_STARTS.has(value[0] as number))
        .map(({ topic, key, value }) => ({ topic, key, value: Buffer.from(value), reason: 'unknown_format' })),
      // A wrong magic byte before an Avro body.
      fc.record({ i: fc.nat(AVRO_TEMPLATES - 1), magic: fc.integer({ min: 1, max: 8 }) }).map(({ i, magic }) => {
        const { e, bytes } = avro[i] as { e: InputEvent; bytes: Buffer };
        return { topic: topicOf(config, e), key: e.subject, value: Buffer.concat([Buffer.from([magic]), bytes.subarray(1)]), reason: 'unknown_format' };
      }),
      // Avro cut short anywhere, the wire header included.
      fc
        .nat(AVRO_TEMPLATES - 1)
        .chain((i) => fc.record({ i: fc.constant(i), cut: fc.integer({ min: 1, max: (avro[i]?.bytes.length ?? 2) - 1 }) }))
        .map(({ i, cut }) => {
          const { e, bytes } = avro[i] as { e: InputEvent; bytes: Buffer };
          return { topic: topicOf(config, e), key: e.subject, value: bytes.subarray(0, cut), reason: 'truncated' };
        }),
      // A schema id the registry does not hold.
      fc.record({ i: fc.nat(AVRO_TEMPLATES - 1), id: fc.integer({ min: 2_000_000_000, max: 2_147_483_647 }) }).map(({ i, id }) => {
        const { e, bytes } = avro[i] as { e: InputEvent; bytes: Buffer };
        const header = Buffer.alloc(5);
        header.writeInt32BE(id, 1);
        return { topic: topicOf(config, e), key: e.subject, value: Buffer.concat([header, bytes.subarray(5)]), reason: 'unknown_schema' };
      }),
      // A required field missing.
      fc.record({ e: template, n: fc.nat() }).map(({ e, n }) => {
        const fields = ['id', 'source', 'type', 'time', 'subject', 'data', ...Object.keys(e.data).map((k) => `data.${k}`)];
        const field = fields[n % fields.length] as string;
        const copy = structuredClone(e) as unknown as Record<string, Record<string, unknown>>;
        const [head, tail] = field.split('.') as [string, string | undefined];
        if (tail === undefined) delete copy[head];
        else delete copy[head]?.[tail];
        return { topic: topicOf(config, e), key: e.subject, value: json(copy), reason: 'missing_field', field };
      }),
      // A huge text.
      fc
        .record({ e: template, field: fc.constantFrom('id', 'source', 'subject'), length: fc.integer({ min: 300, max: 5_000 }) })
        .map(({ e, field, length }) => ({
          topic: topicOf(config, e),
          key: e.subject,
          value: json({ ...e, [field]: 'x'.repeat(length) }),
          reason: 'invalid_field',
          field,
        })),
      // An absurd amount.
      fc.record({ e: fc.constantFrom(...orders), amount: fc.constantFrom(-1, -1e12, 1e13, 2 ** 60, 1e300, 0.5, 19.99) }).map(({ e, amount }) => ({
        topic: config.topics.orders,
        key: e.subject,
        value: json({ ...e, data: { ...e.data, amountMinor: amount } }),
        reason: 'invalid_field',
        field: 'data.amountMinor',
      })),
      // An absurd date: far ahead, before the floor, or no such day.
      fc
        .record({
          e: template,
          when: fc.oneof(
            fc.integer({ min: 2100, max: 9999 }).map((y) => ({ time: iso(y), reason: 'event_time_future', field: 'time' })),
            fc.integer({ min: 1970, max: 1999 }).map((y) => ({ time: iso(y), reason: 'event_time_too_old', field: 'time' })),
            fc.integer({ min: 1970, max: 9999 }).map((y) => ({ time: iso(y, '-02-30T00:00:00Z'), reason: 'invalid_field', field: 'time' })),
          ),
        })
        .map(({ e, when }) => ({ topic: topicOf(config, e), key: e.subject, value: json({ ...e, time: when.time }), reason: when.reason, field: when.field })),
      // A valid event without a key, or keyed by someone else.
      template.map((e) => ({ topic: topicOf(config, e), key: null, value: json(e), reason: 'key_missing', field: 'subject' })),
      fc
        .record({ e: template, other: fc.string({ minLength: 1, maxLength: 40 }) })
        .filter(({ e, other }) => other !== e.subject)
        .map(({ e, other }) => ({ topic: topicOf(config, e), key: other, value: json(e), reason: 'key_mismatch', field: 'subject' })),
    );
    const bads = fc.sample(bad, { seed: 12, numRuns: BAD });
    // Records near 1 MB: an order whose channel is one long text.
    for (let i = 0; i < NEAR_MB; i++) {
      const e = orders[i] as InputEvent;
      const padded = json({ ...e, data: { ...e.data, channel: 'c'.repeat(NEAR_MB_BYTES) } });
      bads.push({ topic: config.topics.orders, key: e.subject, value: padded, reason: 'invalid_field', field: 'data.channel' });
    }

    // Good and bad shuffled together; each bad record carries its index in a header.
    type Outgoing = { topic: string; message: Message };
    const outgoing: Outgoing[] = [
      ...good.map((e) => ({ topic: topicOf(config, e), message: { key: e.subject, value: JSON.stringify(e) } })),
      ...bads.map((b, i) => ({ topic: b.topic, message: { key: b.key, value: b.value, headers: { [HEADER]: String(i) } } })),
    ];
    const rnd = prng(3);
    for (let i = outgoing.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [outgoing[i], outgoing[j]] = [outgoing[j] as Outgoing, outgoing[i] as Outgoing];
    }

    const segmenter = await f.start();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const started = performance.now();
    // Requests of at most 512 KiB: a record near 1 MB goes alone.
    for (const chunk of chunkByBytes(
      outgoing.map((o) => ({ ...o, key: o.message.key ?? null, value: o.message.value })),
      512 * 1024,
    )) {
      const byTopic = new Map<string, Message[]>();
      for (const o of chunk) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o.message]);
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
    const produceMs = performance.now() - started;
    await producer.disconnect();

    // 1. No partition stalls.
    await waitUntilAllApplied(kafka, redis, config, PARTITIONS, 300_000);
    const processMs = performance.now() - started;

    // 2. Every bad record dead-lettered once, with its reason.
    // Letters go out before the commit that moves the fence: all are in the topic by now.
    const coordinates = (l: DeadLetterEvent) => `${l.data.topic}/${l.data.partition}/${l.data.offset}`;
    const letters = await readTopic(kafka, config.topics.deadLetter, 240_000);
    const unique = new Map<string, DeadLetterEvent>();
    for (const { message } of letters) {
      const decoded = await decodeInput(TOPICS.deadLetter, message.value, registry);
      if (!decoded.ok) throw decoded.error;
      unique.set(coordinates(decoded.event), decoded.event);
    }
    expect(unique.size).toBe(bads.length);
    const found = new Map<number, DeadLetterEvent>();
    for (const letter of unique.values()) {
      const header = letter.data.headers.find((h) => h.key === HEADER);
      const index = Number(Buffer.from(header?.value ?? '', 'base64').toString());
      expect(found.has(index), `bad record ${index} dead-lettered at two coordinates`).toBe(false);
      found.set(index, letter);
    }
    const mismatches: string[] = [];
    for (const [i, b] of bads.entries()) {
      const letter = found.get(i);
      const got = letter === undefined ? 'no dead letter' : `${letter.data.reason} ${letter.data.field ?? ''}`.trim();
      const want = `${b.reason} ${b.field ?? ''}`.trim();
      if (got !== want) mismatches.push(`#${i} on ${b.topic}: want ${want}, got ${got}`);
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    // The records near 1 MB (the last ones) keep their first bytes, hash and size.
    for (let i = bads.length - NEAR_MB; i < bads.length; i++) {
      expect(found.get(i)?.data).toMatchObject({ truncated: true, size: bads[i]?.value.length });
    }

    // Counted once each.
    const counted = (await segmenter.metrics.deadLetters.get()).values.reduce((n, v) => n + v.value, 0);
    expect(counted).toBe(bads.length);

    // 3. Every good event applied; state equals recomputation over the good events alone.
    const outcomes = (await segmenter.metrics.eventsConsumed.get()).values;
    const applied = outcomes.filter((v) => ['applied', 'late', 'erased'].includes(String(v.labels['outcome']))).reduce((n, v) => n + v.value, 0);
    expect(applied).toBe(GOOD);
    const compared = await expectStatesEqualRecomputation(redis, config, PARTITIONS, good, Date.now(), (actual, expected, id) =>
      expect(actual, id).toBe(expected),
    );
    expect(compared).toBe(new Set(good.map((e) => e.subject)).size);

    const reasons = new Map<string, number>();
    for (const b of bads) reasons.set(b.reason, (reasons.get(b.reason) ?? 0) + 1);
    console.log(
      `[fuzz] ${bads.length} bad + ${GOOD} good records produced in ${(produceMs / 1000).toFixed(1)} s, all applied or dead-lettered after ${(processMs / 1000).toFixed(1)} s; ${letters.length} letters read, ${unique.size} unique; reasons ${JSON.stringify(Object.fromEntries(reasons))}`,
    );
  }, 600_000);
});
