/**
 * A small hand-written SVG chart: end-to-end latency percentiles (log scale) against offered
 * load (log scale), one line per percentile. No dependency.
 */
export interface LatencyPoint {
  load: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const W = 640;
const H = 400;
const M = { left: 64, right: 120, top: 40, bottom: 52 };
const SERIES = [
  { key: 'p50', color: '#1b9e77' },
  { key: 'p95', color: '#7570b3' },
  { key: 'p99', color: '#d95f02' },
  { key: 'max', color: '#999999' },
] as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

export function latencyChart(points: readonly LatencyPoint[], title: string): string {
  const pts = points.filter((p) => Number.isFinite(p.p50));
  const loads = pts.map((p) => p.load);
  const values = pts.flatMap((p) => SERIES.map((s) => Math.max(0.5, p[s.key])));
  const xLo = Math.min(...loads, 1000) / 1.5;
  const xHi = Math.max(...loads, 1000) * 1.5;
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  const x = (v: number) => M.left + ((Math.log10(v) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((Math.log10(Math.max(v, yLo)) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  for (const t of logTicks(yLo, yHi)) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const l of loads) {
    out.push(`<line x1="${x(l)}" x2="${x(l)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${x(l)}" y="${H - M.bottom + 16}" text-anchor="middle">${l.toLocaleString('en-US')}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">offered load (events/s, log scale)</text>`);
  out.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">end-to-end latency (ms, log scale)</text>`);
  for (const [i, s] of SERIES.entries()) {
    const path = pts.map((p, k) => `${k === 0 ? 'M' : 'L'}${x(p.load).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of pts)
      out.push(
        `<circle cx="${x(p.load).toFixed(1)}" cy="${y(p[s.key]).toFixed(1)}" r="3" fill="${s.color}"><title>${s.key} at ${p.load}/s: ${p[s.key]} ms</title></circle>`,
      );
    const ly = M.top + 10 + i * 18;
    out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${W - M.right + 38}" y="${ly + 4}">${s.key}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
