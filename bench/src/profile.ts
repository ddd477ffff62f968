/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): the top frames by self time, and self time
 * grouped by where the code lives (our packages, kafkajs, ioredis, zod, avsc, node internals),
 * over the whole profile or over a window of it (e.g. the timer burst of a long-lived child).
 */
import { readFileSync } from 'node:fs';

/**
 * Now on the clock of a profile's sample times, in microseconds: V8 stamps samples with the
 * monotonic clock process.hrtime reads (CLOCK_MONOTONIC on Linux), the same in every process
 * of the machine, so a parent can name a window of its child's profile.
 */
export function profileClockMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The profile clock's reading at wall-clock instant `epochMs` (close to now: the clocks drift apart slowly). */
export function profileClockAt(epochMs: number): number {
  return profileClockMicros() + (epochMs - Date.now()) * 1000;
}

/** Samples from `fromMicros` to `toMicros` on the profile clock (profileClockMicros). */
export interface ProfileWindow {
  fromMicros: number;
  toMicros: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Shares are of all sampled time (pct) and of the busy time (busyPct; null for idle). */
export interface ProfileSummary {
  /** Sampled time, idle included. */
  totalMs: number;
  /** Sampled time the process was not idle (GC and (program) included). */
  busyMs: number;
  top: Array<{ frame: string; selfMs: number; pct: number; busyPct: number | null }>;
  byArea: Array<{ area: string; selfMs: number; pct: number; busyPct: number | null }>;
  /** Total (inclusive) time of the functions asked for by name: samples with the function anywhere on the stack. */
  inclusive: Array<{ fn: string; ms: number; busyPct: number }>;
}

export interface SummaryOptions {
  /** Frames listed (default 25). */
  topN?: number;
  /** Only the samples of this window. */
  window?: ProfileWindow;
  /** Function names whose inclusive time to report, e.g. the stages of a code path. */
  inclusive?: readonly string[];
}

function area(url: string, fn: string): string {
  if (url === '') return fn === '(garbage collector)' ? 'GC' : fn === '(idle)' || fn === '(program)' ? fn : 'native';
  const m = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  const ws = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (ws) return `@crm/${ws[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

export function summarizeProfile(file: string, options: SummaryOptions = {}): ProfileSummary {
  const { topN = 25, window, inclusive = [] } = options;
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };
  const self = new Map<number, number>();
  // A sample's time is the profile's start plus the deltas up to it.
  let at = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const delta = prof.timeDeltas[i] ?? 0;
    at += delta;
    if (window !== undefined && (at < window.fromMicros || at > window.toMicros)) continue;
    self.set(prof.samples[i] as number, (self.get(prof.samples[i] as number) ?? 0) + delta / 1000);
  }
  const byFrame = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const n of prof.nodes) {
    const ms = self.get(n.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const a = area(url, functionName);
    const short = url.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^file:\/\/.*\/(packages|services)\//, '$1/');
    const frame = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + ms);
    byArea.set(a, (byArea.get(a) ?? 0) + ms);
    total += ms;
    if (functionName === '(idle)') idle += ms;
  }
  const busy = total - idle;
  const share = (ms: number, of: number) => (of === 0 ? 0 : Math.round((ms / of) * 1000) / 10);
  const rank = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      // Idle time is no share of the busy time.
      .map(([k, ms]) => ({ k, ms: Math.round(ms), pct: share(ms, total), busyPct: k === '(idle)' ? null : share(ms, busy) }));
  return {
    totalMs: Math.round(total),
    busyMs: Math.round(busy),
    top: rank(byFrame, topN).map(({ k, ms, pct, busyPct }) => ({ frame: k, selfMs: ms, pct, busyPct })),
    byArea: rank(byArea, 20).map(({ k, ms, pct, busyPct }) => ({ area: k, selfMs: ms, pct, busyPct })),
    inclusive: inclusiveTimes(prof.nodes, self, inclusive).map(([fn, ms]) => ({ fn, ms: Math.round(ms), busyPct: share(ms, busy) })),
  };
}

/** Per name, the self time of every node with a frame of that name on its stack (each sample counted once per name). */
function inclusiveTimes(nodes: readonly ProfileNode[], self: ReadonlyMap<number, number>, names: readonly string[]): Array<[string, number]> {
  const parent = new Map<number, ProfileNode>();
  const byId = new Map<number, ProfileNode>();
  for (const n of nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n);
  }
  const wanted = new Set(names);
  const times = new Map<string, number>(names.map((n) => [n, 0]));
  for (const [id, ms] of self) {
    const seen = new Set<string>();
    for (let n = byId.get(id); n !== undefined; n = parent.get(n.id)) {
      const fn = n.callFrame.functionName;
      if (wanted.has(fn) && !seen.has(fn)) {
        seen.add(fn);
        times.set(fn, (times.get(fn) ?? 0) + ms);
      }
    }
  }
  return [...times];
}

/** Where a profile's long busy stretches (no idle sample for `minMs` or more: the loop was blocked) spent their time. */
export interface StretchSummary {
  minMs: number;
  /** Stretches of at least minMs, and their lengths. */
  count: number;
  totalMs: number;
  longestMs: number;
  /** Lengths of the longest stretches, longest first (at most 20). */
  longestMsList: number[];
  /** Our functions (packages/, services/) by time on the stack inside the stretches, and in how many stretches. */
  functions: Array<{ frame: string; ms: number; stretches: number }>;
  /** Self time inside the stretches by area (GC, kafkajs, ioredis, @crm/...). */
  byArea: Array<{ area: string; ms: number }>;
}

/** A frame's name for reports: `fn path:line`, the path shortened to the package. */
function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const short = url.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^file:\/\/.*\/(packages|services)\//, '$1/');
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
}

/**
 * The busy stretches of a profile: maximal runs of samples none of which is (idle), lasting
 * at least `minMs`. In each, which of our functions were on the stack and for how long, and the
 * self time by area: the code paths that block the event loop.
 */
export function busyStretches(file: string, minMs: number, window?: ProfileWindow, topN = 25): StretchSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, ProfileNode>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n);
  }
  const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';
  const ours = (n: ProfileNode) => /\/(packages|services)\/[^/]+\/src\//.test(n.callFrame.url) && !n.callFrame.url.includes('node_modules');
  const stretches: Array<Array<[number, number]>> = [];
  let current: Array<[number, number]> = [];
  let at = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i] as number;
    // As summarizeProfile: a sample stands for the time since the previous one.
    const ms = (prof.timeDeltas[i] ?? 0) / 1000;
    at += prof.timeDeltas[i] ?? 0;
    if (window !== undefined && (at < window.fromMicros || at > window.toMicros)) continue;
    if (isIdle(id)) {
      if (current.length > 0) stretches.push(current);
      current = [];
    } else current.push([id, ms]);
  }
  if (current.length > 0) stretches.push(current);
  const long = stretches.map((s) => ({ s, ms: s.reduce((a, [, ms]) => a + ms, 0) })).filter((x) => x.ms >= minMs);
  const fnMs = new Map<string, number>();
  const fnStretches = new Map<string, number>();
  const areaMs = new Map<string, number>();
  for (const { s } of long) {
    const inThis = new Set<string>();
    for (const [id, ms] of s) {
      const node = byId.get(id);
      if (node === undefined) continue;
      const a = area(node.callFrame.url, node.callFrame.functionName);
      areaMs.set(a, (areaMs.get(a) ?? 0) + ms);
      const onStack = new Set<string>();
      for (let n: ProfileNode | undefined = node; n !== undefined; n = parent.get(n.id)) if (ours(n)) onStack.add(frameName(n));
      for (const f of onStack) {
        fnMs.set(f, (fnMs.get(f) ?? 0) + ms);
        inThis.add(f);
      }
    }
    for (const f of inThis) fnStretches.set(f, (fnStretches.get(f) ?? 0) + 1);
  }
  const lengths = long.map((x) => Math.round(x.ms)).sort((a, b) => b - a);
  return {
    minMs,
    count: long.length,
    totalMs: lengths.reduce((a, b) => a + b, 0),
    longestMs: lengths[0] ?? 0,
    longestMsList: lengths.slice(0, 20),
    functions: [...fnMs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([frame, ms]) => ({ frame, ms: Math.round(ms), stretches: fnStretches.get(frame) ?? 0 })),
    byArea: [...areaMs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([a, ms]) => ({ area: a, ms: Math.round(ms) })),
  };
}
