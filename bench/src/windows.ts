/**
 * Pure arithmetic of the throughput figures: the rate per fixed window of a run (is it flat as
 * the state grows?), the start-to-end ratio of those windows, and CPU per event.
 */

/** Progress of a run: `n` records applied at `t` ms (any monotonic clock), in time order. */
export interface Progress {
  t: number;
  n: number;
}

/** Records applied at `t`, interpolated linearly between the samples around it. */
function appliedAt(samples: readonly Progress[], t: number): number {
  let i = 0;
  while (i < samples.length - 1 && (samples[i + 1] as Progress).t < t) i++;
  const a = samples[i] as Progress;
  const b = samples[Math.min(i + 1, samples.length - 1)] as Progress;
  if (b.t === a.t) return b.n;
  return a.n + ((b.n - a.n) * (Math.min(Math.max(t, a.t), b.t) - a.t)) / (b.t - a.t);
}

/**
 * Events per second in each complete window of `windowMs` from the first sample; a run shorter
 * than one window gives one rate over the whole run. Empty with fewer than two samples.
 */
export function windowRates(samples: readonly Progress[], windowMs: number): number[] {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || last.t <= first.t) return [];
  const windows = Math.floor((last.t - first.t) / windowMs);
  if (windows === 0) return [Math.round(((last.n - first.n) * 1000) / (last.t - first.t))];
  const rates: number[] = [];
  for (let w = 0; w < windows; w++) {
    const from = first.t + w * windowMs;
    rates.push(Math.round(((appliedAt(samples, from + windowMs) - appliedAt(samples, from)) * 1000) / windowMs));
  }
  return rates;
}

/** The last window's rate over the first's (1 = flat, < 1 = slowing down); null under two windows. */
export function startEndRatio(rates: readonly number[]): number | null {
  const first = rates[0];
  const last = rates[rates.length - 1];
  if (rates.length < 2 || first === undefined || last === undefined || first === 0) return null;
  return Math.round((last / first) * 1000) / 1000;
}

/** CPU microseconds per event of a process that used `cpuPercent` of one core for `seconds` over `events`. */
export function cpuUsPerEvent(cpuPercent: number | null | undefined, seconds: number, events: number): number | null {
  if (cpuPercent === null || cpuPercent === undefined || events <= 0) return null;
  return Math.round((((cpuPercent / 100) * seconds * 1e6) / events) * 10) / 10;
}
