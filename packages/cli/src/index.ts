/**
 * @crm/cli: the `crm` operator command. `run(argv, io)` runs it in-process (tests, other
 * tools); the pieces below are exported for scripts that import orders or read state directly.
 */
export { run } from './run.ts';
export { type Io, type Output, processIo } from './io.ts';
export { type CliConfig, cliConfig } from './config.ts';
export { CliError } from './errors.ts';
export { BATCH_SIZE, type ImportOptions, type ImportSummary, importOrders } from './commands/import.ts';
export { type ImportCounts, OrderAssembler, SKIP_REASONS, type SkipReason } from './csv/orders.ts';
export { PRESETS, parseMap, resolveMapping } from './csv/mapping.ts';
export { type SegmentCount, countSegments } from './commands/customer.ts';
export { coPartitioning } from './commands/topics.ts';
export { originalRecord, REDRIVE_HEADER } from './commands/dead-letters.ts';
