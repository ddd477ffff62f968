export { type PartitionKeys, partitionKeys } from './keys.ts';
export { SCRIPTS_VERSION, type ScriptSource, callScript, commandName, loadScriptSources, registerScripts } from './scripts.ts';
export { SCRIPT_CODES, type ScriptCode, ScriptRejectedError, checkReply } from './errors.ts';
export { type Fence, advanceFence, readFence } from './fence.ts';
