/**
 * `crm dead-letters list|redrive`. A dead letter keeps the original record's key, value and
 * headers (base64) and the topic it came from; re-driving produces that record again, to its
 * source topic or to `--to`. A re-driven record that still fails is dead-lettered again by the
 * segmenter; one that was already applied is ignored there (same event id).
 */
import { chunkByBytes, DEAD_LETTER_REQUEST_BYTES, type DeadLetterEvent, decodeInput, TOPICS } from '@crm/contracts';
import type { IHeaders, Message } from 'kafkajs';
import { connectKafka, kafkaClient, registryClient, withAdmin } from '../clients.ts';
import type { CliConfig } from '../config.ts';
import { CliError } from '../errors.ts';
import { type Io, println } from '../io.ts';
import { readTopicToEnd } from '../read-topic.ts';
import { formatTable } from '../table.ts';

/** Header added to a re-driven record: the id of the dead letter it came from. */
export const REDRIVE_HEADER = 'crm-redriven-from';

export interface DeadLetterRow {
  /** Coordinates in the dead-letter topic. */
  partition: number;
  offset: string;
  /** The decoded event; null when the dead letter itself does not decode. */
  event: DeadLetterEvent | null;
  error: string | null;
}

async function readDeadLetters(config: CliConfig, lastPerPartition?: number): Promise<DeadLetterRow[]> {
  const kafka = kafkaClient(config);
  const registry = registryClient(config);
  const records = await readTopicToEnd(config, kafka, config.topics.deadLetter, { lastPerPartition });
  return Promise.all(
    records.map(async ({ partition, message }) => {
      const decoded = await decodeInput(TOPICS.deadLetter, message.value, registry);
      return decoded.ok
        ? { partition, offset: message.offset, event: decoded.event, error: null }
        : { partition, offset: message.offset, event: null, error: `${decoded.error.reason}: ${decoded.error.message}` };
    }),
  );
}

export async function deadLettersList(io: Io, config: CliConfig, options: { limit: number; reason?: string; json?: boolean }): Promise<number> {
  // The newest `limit` of each partition, then the newest `limit` overall.
  const rows = (await readDeadLetters(config, options.limit))
    .filter((r) => options.reason === undefined || r.event?.data.reason === options.reason)
    .sort((a, b) => (a.event?.time ?? '').localeCompare(b.event?.time ?? ''))
    .slice(-options.limit);
  if (options.json) {
    for (const r of rows) println(io.stdout, JSON.stringify(r));
    return 0;
  }
  if (rows.length === 0) {
    println(io.stdout, `no dead letters in ${config.topics.deadLetter}${options.reason === undefined ? '' : ` with reason ${options.reason}`}`);
    return 0;
  }
  const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
  println(
    io.stdout,
    formatTable(
      ['time', 'reason', 'source', 'subject', 'field', 'message'],
      rows.map((r) =>
        r.event === null
          ? ['-', 'undecodable', `dead letter ${r.partition}@${r.offset}`, '-', '-', cut(r.error ?? '', 60)]
          : [
              r.event.time,
              r.event.data.reason,
              `${r.event.data.topic}[${r.event.data.partition}]@${r.event.data.offset}`,
              r.event.subject,
              r.event.data.field,
              cut(r.event.data.message, 60),
            ],
      ),
    ),
  );
  println(io.stdout, `${rows.length} dead letter(s) shown (newest last; --limit ${options.limit})`);
  return 0;
}

export interface RedriveOptions {
  dryRun?: boolean;
  reason?: string;
  to?: string;
  limit?: number;
}

/** The record a dead letter holds, as kafkajs produces it. */
export function originalRecord(event: DeadLetterEvent): Message {
  const d = event.data;
  const headers: IHeaders = {};
  for (const h of d.headers) {
    const value = h.value === null ? undefined : Buffer.from(h.value, 'base64');
    const prev = headers[h.key];
    if (prev === undefined && !Object.hasOwn(headers, h.key)) headers[h.key] = value;
    else headers[h.key] = [...(Array.isArray(prev) ? prev : prev === undefined ? [] : [prev]), ...(value === undefined ? [] : [value])];
  }
  headers[REDRIVE_HEADER] = event.id;
  return {
    key: d.keyBase64 === null ? null : Buffer.from(d.keyBase64, 'base64'),
    value: d.valueBase64 === null ? null : Buffer.from(d.valueBase64, 'base64'),
    headers,
  };
}

export async function deadLettersRedrive(io: Io, config: CliConfig, options: RedriveOptions): Promise<number> {
  const rows = await readDeadLetters(config);
  const matching = rows
    .map((r) => r.event)
    .filter((e): e is DeadLetterEvent => e !== null && (options.reason === undefined || e.data.reason === options.reason));
  // A truncated letter holds only the first bytes of its record: re-driving them would produce a
  // different, broken record. Its coordinates (and sha256) locate the original instead.
  const chosen = matching.filter((e) => e.data.truncated !== true);
  const truncated = matching.length - chosen.length;
  const selected = options.limit === undefined ? chosen : chosen.slice(0, options.limit);
  const undecodable = rows.filter((r) => r.event === null).length;
  if (truncated > 0) {
    io.stderr.write(`warning: ${truncated} dead letter(s) hold a truncated record and are skipped (re-drive them from their source coordinates)\n`);
  }
  const target = (e: DeadLetterEvent) => options.to ?? e.data.topic;
  const filter = options.reason === undefined ? '' : ` with reason ${options.reason}`;
  if (selected.length === 0) {
    println(io.stdout, `nothing to re-drive: no dead letters${filter} in ${config.topics.deadLetter}`);
    return 0;
  }
  println(
    io.stdout,
    formatTable(
      ['dead letter', 'reason', 'from', 'to', 'key'],
      selected.map((e) => [
        e.id.slice(0, 15),
        e.data.reason,
        `${e.data.topic}[${e.data.partition}]@${e.data.offset}`,
        target(e),
        e.data.keyBase64 === null ? null : Buffer.from(e.data.keyBase64, 'base64').toString('utf8'),
      ]),
    ),
  );
  if (undecodable > 0) io.stderr.write(`warning: ${undecodable} dead letter(s) do not decode and are skipped\n`);
  const targets = [...new Set(selected.map(target))];
  const absent = await withAdmin(config, async (admin) => {
    const existing = new Set(await admin.listTopics());
    return targets.filter((t) => !existing.has(t));
  });
  if (absent.length > 0) throw new CliError(`cannot re-drive: topic(s) ${absent.join(', ')} do not exist`);
  if (options.dryRun) {
    println(io.stdout, `dry run: would re-drive ${selected.length} of ${rows.length} dead letter(s)${filter}; nothing produced`);
    return 0;
  }
  const producer = kafkaClient(config).producer({ idempotent: true, maxInFlightRequests: 1 });
  await connectKafka(config, () => producer.connect());
  try {
    const byTopic = new Map<string, Message[]>();
    for (const e of selected) byTopic.set(target(e), [...(byTopic.get(target(e)) ?? []), originalRecord(e)]);
    for (const [topic, messages] of byTopic) {
      try {
        // Bounded requests: a letter holds up to 256 KiB of its record, and many make more than the broker takes at once.
        for (const chunk of chunkByBytes(messages, DEAD_LETTER_REQUEST_BYTES)) await producer.send({ topic, acks: -1, messages: chunk });
      } catch (err) {
        throw new CliError(`re-driving to ${topic} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  } finally {
    await producer.disconnect();
  }
  println(io.stdout, `re-drove ${selected.length} of ${rows.length} dead letter(s)${filter}`);
  return 0;
}
