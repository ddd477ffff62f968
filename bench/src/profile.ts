/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): the top frames by self time, and self time
 * grouped by where the code lives (our packages, kafkajs, ioredis, zod, avsc, node internals).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  top: Array<{ frame: string; selfMs: number; pct: number }>;
  byArea: Array<{ area: string; selfMs: number; pct: number }>;
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

export function summarizeProfile(file: string, topN = 25): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++)
    self.set(prof.samples[i] as number, (self.get(prof.samples[i] as number) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000);
  const byFrame = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
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
  }
  const rank = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => ({ k, ms: Math.round(ms), pct: Math.round((ms / total) * 1000) / 10 }));
  return {
    totalMs: Math.round(total),
    top: rank(byFrame, topN).map(({ k, ms, pct }) => ({ frame: k, selfMs: ms, pct })),
    byArea: rank(byArea, 20).map(({ k, ms, pct }) => ({ area: k, selfMs: ms, pct })),
  };
}
