/** `crm lag`: consumer lag per group and partition, from @crm/lag-monitor's collectLag. */
import { collectLag, DEFAULT_GROUP_PREFIX, type GroupSelector } from '@crm/lag-monitor';
import { kafkaClient, kafkaError } from '../clients.ts';
import type { CliConfig } from '../config.ts';
import { oneLine } from '../errors.ts';
import { type Io, println } from '../io.ts';
import { formatTable } from '../table.ts';

export async function lag(io: Io, config: CliConfig, options: { group?: string[]; prefix?: string; json?: boolean }): Promise<number> {
  const selector: GroupSelector =
    options.group !== undefined && options.group.length > 0 ? { groups: options.group } : { prefix: options.prefix ?? DEFAULT_GROUP_PREFIX };
  let snapshot: Awaited<ReturnType<typeof collectLag>>;
  try {
    snapshot = await collectLag(kafkaClient(config), selector, { probeTimeoutMs: 10_000 });
  } catch (err) {
    throw kafkaError(config, err, `cannot collect lag from Kafka at ${config.kafka.brokers.join(',')}: ${oneLine(err)}`);
  }
  if (options.json) {
    println(io.stdout, JSON.stringify(snapshot));
    return 0;
  }
  if (snapshot.groups.length === 0) {
    println(io.stdout, 'groups' in selector ? `no such group: ${selector.groups.join(', ')}` : `no consumer group whose id starts with "${selector.prefix}"`);
    return 0;
  }
  for (const g of snapshot.groups) {
    const total = g.rows.reduce((n, r) => n + r.lagMessages, 0);
    println(io.stdout, `group ${g.group}  state ${g.state}  members ${g.members}  lag ${total.toLocaleString('en-US')} message(s)`);
    if (g.rows.length === 0) {
      println(io.stdout, '  (no committed offsets)');
    } else {
      const rows = g.rows.map((r) => [
        r.topic,
        r.partition,
        r.committedOffset,
        r.endOffset,
        r.lagMessages,
        r.lagSeconds === null ? null : Number(r.lagSeconds.toFixed(1)),
      ]);
      println(io.stdout, formatTable(['topic', 'partition', 'committed', 'end', 'lag', 'lag s'], rows).replace(/^/gm, '  '));
    }
  }
  for (const e of snapshot.errors) io.stderr.write(`warning: ${e.stage} ${e.subject}: ${e.message}\n`);
  return 0;
}
