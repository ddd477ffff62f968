/**
 * Progress of a long import on stderr: a bar redrawn in place (rate, ETA from bytes read of
 * the file's size) when stderr is a terminal, a plain line every PLAIN_INTERVAL_MS otherwise
 * (logs, CI). Updates are cheap to call per batch: they draw only when due.
 */
import type { Output } from './io.ts';

/** A terminal redraw at most this often. */
const TTY_INTERVAL_MS = 200;
/** A plain line at most this often. */
const PLAIN_INTERVAL_MS = 5_000;
const BAR_WIDTH = 24;

/** What a bar counts: how done/total reads ('2.0/10.0 MB') and what the rate counts ('rows'). */
export interface ProgressUnits {
  amount(done: number, total: number): string;
  noun: string;
}

const mb = (n: number) => (n / 1_048_576).toFixed(1);
/** The import's: bytes of the file, rows per second. */
export const BYTES_AND_ROWS: ProgressUnits = { amount: (done, total) => `${mb(done)}/${mb(total)} MB`, noun: 'rows' };

export class Progress {
  private readonly started: number;
  private last = 0;
  private drawn = false;
  private readonly out: Output;
  private readonly totalBytes: number;
  private readonly now: () => number;
  private readonly units: ProgressUnits;

  constructor(out: Output, totalBytes: number, now: () => number = Date.now, units: ProgressUnits = BYTES_AND_ROWS) {
    this.out = out;
    this.totalBytes = totalBytes;
    this.now = now;
    this.units = units;
    this.started = now();
    this.last = this.started;
  }

  update(bytes: number, rows: number): void {
    const t = this.now();
    if (t - this.last < (this.out.isTTY ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS)) return;
    this.last = t;
    const line = this.line(bytes, rows, t);
    if (this.out.isTTY) {
      this.out.write(`\r${line}\u001b[K`);
      this.drawn = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** Clears the bar (the summary follows on stdout). */
  done(): void {
    if (this.drawn) this.out.write('\r\u001b[K');
    this.drawn = false;
  }

  /** e.g. '[#########.......] 38%  12.1/31.9 MB  41,200 rows/s  ETA 0:07'. */
  line(bytes: number, rows: number, t: number): string {
    const elapsed = Math.max(1, t - this.started) / 1000;
    const fraction = this.totalBytes > 0 ? Math.min(1, bytes / this.totalBytes) : 0;
    const rate = rows / elapsed;
    const eta = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Number.NaN;
    const filled = Math.round(fraction * BAR_WIDTH);
    return (
      `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${Math.floor(fraction * 100)
        .toString()
        .padStart(3)}%  ` +
      `${this.units.amount(bytes, this.totalBytes)}  ${Math.round(rate).toLocaleString('en-US')} ${this.units.noun}/s  ETA ${duration(eta)}`
    );
  }
}

/** Seconds as m:ss (or h:mm:ss); '?' when unknown. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
