/**
 * @crm/lag-monitor: consumer lag (messages and seconds) of the project's consumer groups, as a
 * Prometheus exporter (LagMonitor) and as a function for operators' tools (collectLag).
 */
export { type CollectError, type CollectorOptions, type GroupLag, LagCollector, type LagSnapshot, collectLag } from './collect.ts';
export { ConfigError, DEFAULT_GROUP_PREFIX, type GroupSelector, type LagMonitorConfig, loadConfig } from './config.ts';
export { type CommittedOffset, type LagRow, type PartitionBounds, computeLagRows } from './lag.ts';
export { LagMonitor } from './service.ts';
