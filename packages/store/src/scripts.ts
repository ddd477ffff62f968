/**
 * Lua scripts, one per Redis operation, each in its own file under lua/ named
 * `<verbNoun>-<numKeys>.lua` (no count: the caller passes it). Shared functions live in
 * lua/includes/ and are inlined where a script says `--- @include "name"`. Scripts are
 * registered once per client under a versioned name (ioredis defineCommand: EVALSHA, with
 * EVAL only when Redis does not have the script yet).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Bump when any script changes shape: a running old version keeps its own registered name. */
export const SCRIPTS_VERSION = '5';

const LUA_DIR = new URL('./lua/', import.meta.url);

export interface ScriptSource {
  name: string;
  numberOfKeys: number | undefined;
  lua: string;
}

function inlineIncludes(lua: string, file: string, seen = new Set<string>()): string {
  return lua.replace(/^--- @include "([\w-]+)"$/gm, (_, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    const included = readFileSync(new URL(`includes/${name}.lua`, LUA_DIR), 'utf8');
    return inlineIncludes(included, `${file} > ${name}`, seen);
  });
}

export function loadScriptSources(): ScriptSource[] {
  return readdirSync(LUA_DIR)
    .filter((f) => f.endsWith('.lua'))
    .map((file) => {
      const m = /^([a-zA-Z]+)(?:-(\d+))?\.lua$/.exec(file);
      if (m === null) throw new Error(`lua/${file}: script files are named <verbNoun>-<numKeys>.lua`);
      const lua = inlineIncludes(readFileSync(new URL(file, LUA_DIR), 'utf8'), file);
      return { name: m[1] as string, numberOfKeys: m[2] === undefined ? undefined : Number(m[2]), lua };
    });
}

export const commandName = (script: string): string => `crm_${script}_v${SCRIPTS_VERSION}`;

const registered = new WeakSet<Redis>();

/**
 * Registers every script on `redis` once. On a client with `enableAutoPipelining` call it
 * before the client's first command: an auto-pipeline copies the client's scripts when it is
 * created, so a script first defined (lazily, by a first callScript) in a tick whose pipeline
 * already exists is missing from that pipeline. ioredis 5.11 then rejects the call
 * ("pipeline[functionName] is not a function") but keeps its reply slot: each command queued
 * after it gets the reply of the next one, and the last reply's absence throws "results[i] is
 * not iterable" from a callback, an uncaught exception that ends the process.
 */
export function registerScripts(redis: Redis): void {
  if (registered.has(redis)) return;
  for (const s of loadScriptSources()) {
    redis.defineCommand(commandName(s.name), s.numberOfKeys === undefined ? { lua: s.lua } : { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }
  registered.add(redis);
}

/**
 * Calls a registered script by name. Keys and arguments go as arrays, not spread: ioredis
 * flattens a command's arguments (Command: args.flat()), and a spread call overflows the stack
 * past ~120,000 arguments (a large commitBatch).
 */
export async function callScript(redis: Redis, script: string, keys: string[], args: Array<string | number | Buffer>, fixedKeys = true): Promise<unknown> {
  // Registering lazily is safe only without auto-pipelining (registerScripts says why).
  if (!registered.has(redis) && redis.options.enableAutoPipelining === true)
    throw new Error('a client with enableAutoPipelining needs registerScripts(client) before its first command');
  registerScripts(redis);
  type Arg = string | number | Buffer | Array<string | number | Buffer>;
  const fn = (redis as unknown as Record<string, (...a: Arg[]) => Promise<unknown>>)[commandName(script)];
  if (fn === undefined) throw new Error(`no Lua script named ${script}`);
  return fixedKeys ? fn.call(redis, keys, args) : fn.call(redis, keys.length, keys, args);
}
