/**
 * Business outcomes of the Lua scripts are small negative codes, mapped here, in one place,
 * to typed errors. None is retriable as such: the caller re-reads and decides.
 */
export const SCRIPT_CODES = {
  STALE_FENCE: -1,
  FENCE_REGRESSION: -2,
  STATE_CONFLICT: -3,
  BAD_ARGUMENT: -4,
} as const;

export type ScriptCode = keyof typeof SCRIPT_CODES;

export class ScriptRejectedError extends Error {
  override name = 'ScriptRejectedError';
  readonly code: ScriptCode;
  readonly script: string;
  readonly retriable = false;
  constructor(script: string, code: ScriptCode, detail: string) {
    super(`${script}: ${code} (${detail})`);
    this.script = script;
    this.code = code;
  }
}

/** Throws the typed error for a negative reply; returns the reply otherwise. */
export function checkReply(script: string, reply: unknown, detail: string): unknown {
  if (typeof reply === 'number' && reply < 0) {
    const code = (Object.keys(SCRIPT_CODES) as ScriptCode[]).find((k) => SCRIPT_CODES[k] === reply);
    throw new ScriptRejectedError(script, code ?? 'STALE_FENCE', `${detail}; reply ${reply}`);
  }
  return reply;
}
