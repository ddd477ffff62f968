/**
 * The `crm` command tree (commander). Built anew for every run so that runs are independent;
 * every action returns the process exit code.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { deadLettersList, deadLettersRedrive } from './commands/dead-letters.ts';
import { customerShow, segments } from './commands/customer.ts';
import { customersExportCommand } from './commands/export.ts';
import { importOrders } from './commands/import.ts';
import { infraDown, infraStatus, infraUp } from './commands/infra.ts';
import { lag } from './commands/lag.ts';
import { replay } from './commands/replay.ts';
import { topicsCreate, topicsDescribe } from './commands/topics.ts';
import { type CliConfig, cliConfig } from './config.ts';
import { PRESETS } from './csv/mapping.ts';
import { MAPPABLE_FIELDS } from './csv/mapping.ts';
import { CREDIT_NOTE_MODES, DEFAULT_IDLE_ROWS, DEFAULT_MAX_OPEN_INVOICES, SKIP_REASONS } from './csv/orders.ts';
import { DATE_FORMATS } from './csv/values.ts';
import { DEFAULT_MAX_SKIPPED_RATIO } from './commands/import.ts';
import type { Io } from './io.ts';

const ENV_HELP = `
Connection settings come from the environment, defaulting to the local infra (crm infra up):
  KAFKA_BROKERS        host:port,...      (default 127.0.0.1:19092)
  REDIS_URL            redis://host:port  (default redis://127.0.0.1:16379)
  SCHEMA_REGISTRY_URL  registry URL; empty for JSON values (default the local registry)
  CRM_KEY_PREFIX       Redis key prefix (default crm)
  CRM_TOPIC_SUFFIX     appended to every topic name (default none)
  CRM_PARTITIONS       partitions of created topics (default 6)
  CRM_GROUP_ID         the segmenter's consumer group (default crm-segmenter)
TLS, SASL and credentials take the services' variables (README, "Security"):
  KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE,
  KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE; REDIS_USERNAME, REDIS_PASSWORD_FILE,
  REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE (with rediss://);
  SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD_FILE, SCHEMA_REGISTRY_CA_FILE.
Set CRM_DEBUG=1 to see stack traces of unexpected errors.`;

const READ_HELP = `
Fields (recency, tenure, window figures, R/F/M scores) are derived as of --at, else now; the
output says which instant it used. Scores use the stored quantile cuts when the segmenter keeps
some (CRM_SCORING=quantile), else the configured cuts. Memberships are what the segment index
holds (set by the segmenter), not re-derived at the read instant.`;

function ratio(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^(0|1|0?\.\d+|1\.0*)$/.test(value) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
    return n;
  };
}

function positiveInt(name: string, max = 1_000_000) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}`);
    return n;
  };
}

/** The command tree; `setCode` receives each action's exit code. */
export function buildProgram(io: Io, setCode: (code: number) => void): Command {
  let cached: CliConfig | undefined;
  const config = () => {
    cached ??= cliConfig(io.env);
    return cached;
  };
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) => {
      setCode(await fn(...args));
    };

  const program = new Command('crm')
    .description('Operate the real-time customer segmentation: local servers, topics, CSV import, replay, customers, segments, lag, dead letters.')
    .addHelpText('after', ENV_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  program.configureHelp({ showGlobalOptions: true });

  // Subcommands inherit exit override and output configuration from their parent when created with .command().
  const infra = program.command('infra').description('start, stop or check the local Kafka, Redis and schema registry (no Docker)');
  infra
    .command('up')
    .description('start whatever is not running and wait until all three answer')
    .action(act(() => infraUp(io)));
  infra
    .command('down')
    .description('stop the servers infra started')
    .action(act(() => infraDown(io)));
  infra
    .command('status')
    .description('health of each server (exit 1 when one is down)')
    .action(act(() => infraStatus(io)));

  const topics = program.command('topics').description('create or describe the project topics');
  topics
    .command('create')
    .description('create the missing topics (inputs, segment changes, dead letters); then check co-partitioning')
    .option('--partitions <n>', 'partitions of each created topic (default: CRM_PARTITIONS, 6)', positiveInt('--partitions', 1024))
    .action(act((opts: { partitions?: number }) => topicsCreate(io, config(), opts.partitions ?? config().partitions)));
  topics
    .command('describe')
    .description('partition count per topic and the co-partitioning verdict (exit 1 when the inputs are not co-partitioned)')
    .option('--json', 'machine-readable output')
    .action(act((opts: { json?: boolean }) => topicsDescribe(io, config(), opts.json ?? false)));

  const imp = program.command('import').description('import historical data');
  imp
    .command('orders')
    .description('stream a CSV of order lines into completed-order events (one event per order; deterministic ids, so a re-import is idempotent)')
    .argument('<file>', 'CSV file with a header row')
    .addOption(
      new Option(
        '--preset <name>',
        `column preset (default retail when no --map): ${Object.entries(PRESETS)
          .map(([k, p]) => `${k} = ${p.description}`)
          .join('; ')}`,
      ).choices(Object.keys(PRESETS)),
    )
    .option('--map <col=field,...>', `map columns to fields (${MAPPABLE_FIELDS.join(', ')}); amends the preset`)
    .option('--dry-run', 'parse and count only: produce nothing')
    .option('--currency <code>', 'ISO-4217 currency of the prices', 'GBP')
    .option('--channel <name>', 'order channel recorded on every order', 'online')
    .option('--id-prefix <p>', 'event ids are <p>-<order id>', 'import')
    .addOption(
      new Option(
        '--date-format <fmt>',
        'how dates read: auto (M/D/YYYY H:MM, ISO, YYYYMMDD; the default), iso, yyyymmdd, mdy or dmy; no zone = UTC, a date alone = 00:00 UTC',
      ).choices(DATE_FORMATS),
    )
    .option('--day-first', 'same as --date-format dmy')
    .option('--create-topics', 'create the project topics when the orders topic is missing (as crm topics create would)')
    .option(
      '--max-skipped-ratio <r>',
      `fail (exit 1) when more than this share of the rows is unreadable for one reason (default ${DEFAULT_MAX_SKIPPED_RATIO})`,
      ratio('--max-skipped-ratio'),
    )
    .option(
      '--max-open-invoices <n>',
      `invoices assembled at once (interleaved lines), default ${DEFAULT_MAX_OPEN_INVOICES}`,
      positiveInt('--max-open-invoices'),
    )
    .option('--idle-rows <n>', `an invoice is complete after this many rows without a line of it, default ${DEFAULT_IDLE_ROWS}`, positiveInt('--idle-rows'))
    .addOption(
      new Option('--credit-notes <mode>', 'credit notes: skip them, or refund the orders they return (see the README)')
        .choices(CREDIT_NOTE_MODES)
        .default('skip'),
    )
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
One order per order id (retail: InvoiceNo): amount = sum(Quantity x UnitPrice) in minor units,
itemCount = sum(Quantity), time = the first line's date. An invoice's lines need not be
contiguous (up to --max-open-invoices open at once). Skipped rows are counted under the first
reason that applies: ${SKIP_REASONS.join(', ')}.
Credit notes (retail: InvoiceNo starting with C) are skipped by default: the export does not say
which invoice they return; --credit-notes refund refunds the customer's latest earlier order
holding the product. The orders topic must exist (crm topics create, or --create-topics).
Exit 1 when no order came out of the file, or too many rows were unreadable. Progress goes to
stderr; the summary to stdout.`,
    )
    .action(act((file: string, opts: Parameters<typeof importOrders>[3]) => importOrders(io, config(), file, opts).then(() => 0)));

  program
    .command('replay')
    .description('run the segmenter in backfill mode: rebuild state from the beginning of the input topics quietly, then go live')
    .option('--group <id>', 'consumer group (default CRM_GROUP_ID); a new one reads from the beginning')
    .option('--key-prefix <p>', 'Redis key prefix to build into (default CRM_KEY_PREFIX)')
    .option('--until-live', 'stop the segmenter and exit 0 once it has caught up')
    .option(
      '--as-of <end|instant>',
      'never go live: once caught up, evaluate every customer at one instant (end: the latest event time over all partitions; or an ISO-8601 UTC instant), then exit 0',
    )
    .option('--print', 'print the command instead of running it')
    .action(act((opts: Parameters<typeof replay>[2]) => replay(io, config(), opts)));

  const customer = program.command('customer').description('inspect customers');
  customer
    .command('show')
    .description("a customer's memberships (as the segment index holds them) and fields derived at the read instant, from Redis")
    .argument('<id>', 'customer id (the Kafka key)')
    .option('--at <instant>', 'derive the fields as of this ISO-8601 UTC instant (default: now, the wall clock)')
    .option('--partitions <n>', 'partition count (default: that of the orders topic)', positiveInt('--partitions', 1024))
    .option('--json', 'machine-readable output')
    .addHelpText('after', READ_HELP)
    .action(act((id: string, opts: Parameters<typeof customerShow>[3]) => customerShow(io, config(), id, opts)));

  program
    .command('customers')
    .description('every customer at once')
    .command('export')
    .description('stream every customer of every partition (id, memberships, fields derived at one instant) as JSON lines or CSV, in constant memory')
    .addOption(new Option('--format <f>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--where <dimension=value>', 'only the members of one segment, from the segment index (e.g. stage=loyal, rfmSegment=champions, custom=vip)')
    .option('--at <instant>', 'derive the fields as of this ISO-8601 UTC instant (default: now, the wall clock)')
    .option('--out <file>', 'write to this file (default: stdout)')
    .option('--json', 'print the summary as JSON (on stderr)')
    .addHelpText('after', `${READ_HELP}\nProgress and the summary go to stderr; the customers to stdout or --out.`)
    .action(act((opts: Parameters<typeof customersExportCommand>[2]) => customersExportCommand(io, config(), opts)));

  program
    .command('segments')
    .description('customers per dimension and value, summed over all partitions')
    .option('--dimension <d>', 'only this dimension (rfm_segment, stage, tier, satisfaction, expectation_gap, quadrant, custom)')
    .option('--json', 'machine-readable output')
    .action(act((opts: { dimension?: string; json?: boolean }) => segments(io, config(), opts)));

  program
    .command('lag')
    .description('consumer lag per group, topic and partition (messages and seconds)')
    .option('--group <id...>', 'these groups (default: every group whose id starts with --prefix)')
    .option('--prefix <p>', 'group id prefix', 'crm-')
    .option('--json', 'machine-readable output')
    .action(act((opts: { group?: string[]; prefix?: string; json?: boolean }) => lag(io, config(), opts)));

  const dl = program.command('dead-letters').description('inspect and re-drive records that failed to decode or validate');
  dl.command('list')
    .description('the newest dead letters with reason, source coordinates and message')
    .option('--limit <n>', 'how many', positiveInt('--limit'), 20)
    .option('--reason <r>', 'only this reason code (e.g. wrong_topic, invalid_field)')
    .option('--json', 'one JSON object per line')
    .action(act((opts: { limit: number; reason?: string; json?: boolean }) => deadLettersList(io, config(), opts)));
  dl.command('redrive')
    .description('produce the original records (key, value, headers) back to their source topic, or to --to')
    .option('--dry-run', 'print what would be re-driven; produce nothing')
    .option('--reason <r>', 'only dead letters with this reason code')
    .option('--to <topic>', 'produce to this topic instead of the recorded source topic')
    .option('--limit <n>', 'at most this many (oldest first)', positiveInt('--limit'))
    .addHelpText('after', '\nA re-driven record that fails again is dead-lettered again; one already applied is ignored (same event id).')
    .action(act((opts: Parameters<typeof deadLettersRedrive>[2]) => deadLettersRedrive(io, config(), opts)));

  return program;
}
