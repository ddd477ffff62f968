export { type PartitionKeys, globalKeys, partitionKeys } from './keys.ts';
export { SCRIPTS_VERSION, type ScriptSource, callScript, commandName, loadScriptSources, registerScripts } from './scripts.ts';
export { SCRIPT_CODES, type ScriptCode, ScriptRejectedError, checkReply } from './errors.ts';
export { type Fence, advanceFence, readFence } from './fence.ts';
export { type StoredCuts, readRfmCuts, writeRfmCuts } from './cuts.ts';
export { type SegmentFilter, scanCustomerRecords } from './customer-scan.ts';
export { AT_SOURCES, type AtSource, type Clock, type ReadInstant, readAt, readInstant } from './instant.ts';
export { advanceStreamClock, readStreamClock } from './stream-clock.ts';
export {
  type BatchCommit,
  type BatchContext,
  type CommitResult,
  type CustomerWrite,
  type HistoryWrite,
  type OutboxEntry,
  ackOutbox,
  nextStreamId,
  commitBatch,
  countField,
  dueCustomers,
  outboxLength,
  readBatchContext,
  readOutbox,
  segmentCounts,
} from './partition-store.ts';
export type { IndexMove } from './index-moves.ts';
export type { OutboxRecord } from './outbox-entry.ts';
export { type CustomerRecord, type StoredCustomer, parseCustomerRecord, parseStateRecord } from './record.ts';
export { type HistoryCause, type HistoryEntry, prependHistory, recentChanges, unpackHistory } from './history.ts';
export { keyedPartitioner, murmur2, partitionFor } from './partitioner.ts';
