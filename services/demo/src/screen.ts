/**
 * The terminal: change lines scroll, the tally is redrawn periodically. On a terminal (ANSI)
 * the tally is pinned below a scroll region; otherwise (a pipe, a log) it is printed as plain
 * lines every interval. Lines beyond the per-second budget are counted, not printed.
 */
import type { SegmentChangeEvent } from '@crm/contracts';
import { type Status, Tally, formatChange, formatTally } from './view.ts';

/** Rows kept for the tally: a rule, the status line and seven dimensions. */
const FOOTER_ROWS = 9;
/** Below this height the pinned footer would leave too little room: plain output instead. */
const MIN_ROWS = FOOTER_ROWS + 6;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g;

export interface ScreenOutput {
  write(s: string): unknown;
  isTTY?: boolean;
  rows?: number;
  columns?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface ScreenOptions {
  ansi: boolean;
  maxLinesPerSecond: number;
  tallyIntervalMs: number;
  status: () => Status;
}

export class Screen {
  readonly tally = new Tally();
  private readonly out: ScreenOutput;
  private readonly options: ScreenOptions;
  private timer: NodeJS.Timeout | undefined;
  private pinned = false;
  private windowStart = 0;
  private shownInWindow = 0;
  private hidden = 0;
  private readonly onResize = () => this.layout();

  constructor(out: ScreenOutput, options: ScreenOptions) {
    this.out = out;
    this.options = options;
  }

  start(): void {
    if (this.options.ansi) {
      this.out.on?.('resize', this.onResize);
      this.layout();
    }
    this.timer = setInterval(() => this.redraw(), this.options.tallyIntervalMs);
    this.timer.unref();
  }

  /** A line of information (not a change), always printed. */
  notice(text: string): void {
    this.line(text);
  }

  change(change: SegmentChangeEvent): void {
    this.tally.add(change);
    this.rollWindow();
    const max = this.options.maxLinesPerSecond;
    if (max > 0 && this.shownInWindow >= max) {
      this.hidden++;
      return;
    }
    this.shownInWindow++;
    this.line(formatChange(change, this.options.ansi));
  }

  /** Stops redrawing, prints the final tally, gives the terminal back as it was. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.rollWindow(true);
    if (this.pinned) {
      this.drawFooter();
      this.release();
    } else {
      this.printTally();
    }
  }

  /**
   * Gives the terminal back (full scroll region, cursor visible, below the tally) if the
   * screen still holds it; safe to call at any time, e.g. from an exit handler after a crash.
   */
  release(): void {
    if (!this.pinned) return;
    this.out.off?.('resize', this.onResize);
    // Resetting the region homes the cursor: move it below the tally before handing over.
    this.out.write(`\x1b[r\x1b[${this.out.rows ?? 24};1H\n\x1b[?25h`);
    this.pinned = false;
  }

  private rollWindow(force = false): void {
    const now = Date.now();
    if (!force && now - this.windowStart < 1000) return;
    if (this.hidden > 0)
      this.line(`… ${this.hidden} more change(s) not shown (DEMO_MAX_LINES_PER_SECOND=${this.options.maxLinesPerSecond}); all are in the tally`);
    this.windowStart = now;
    this.shownInWindow = 0;
    this.hidden = 0;
  }

  private redraw(): void {
    this.rollWindow();
    if (this.pinned) this.drawFooter();
    else this.printTally();
  }

  private printTally(): void {
    for (const l of formatTally(this.tally, this.options.status(), this.options.ansi)) this.line(l);
  }

  private line(text: string): void {
    if (!this.pinned) {
      this.out.write(`${text}\n`);
      return;
    }
    // The cursor sits on the region's last row: a newline scrolls the region only.
    this.out.write(`\n${this.fit(text)}`);
  }

  /** Cuts a line to the terminal's width (colours are dropped from a cut line). */
  private fit(text: string): string {
    const cols = this.out.columns ?? 80;
    const plain = text.replace(ESCAPES, '');
    return plain.length <= cols ? text : `${plain.slice(0, cols - 1)}…`;
  }

  /** Sets the scroll region above the footer (again after a resize) and draws the footer. */
  private layout(): void {
    const rows = this.out.rows ?? 0;
    if (rows < MIN_ROWS) {
      if (this.pinned) this.out.write('\x1b[r\x1b[?25h');
      this.pinned = false;
      return;
    }
    const top = rows - FOOTER_ROWS;
    // Make room: push what is on screen up, then confine scrolling to rows 1..top.
    this.out.write(`${'\n'.repeat(FOOTER_ROWS)}\x1b[?25l\x1b[1;${top}r\x1b[${top};1H`);
    this.pinned = true;
    this.drawFooter();
  }

  private drawFooter(): void {
    const rows = this.out.rows ?? 24;
    const cols = this.out.columns ?? 80;
    const top = rows - FOOTER_ROWS;
    const lines = ['\x1b[2m' + '─'.repeat(cols) + '\x1b[0m', ...formatTally(this.tally, this.options.status(), true)].slice(0, FOOTER_ROWS);
    let s = '\x1b7';
    for (let i = 0; i < FOOTER_ROWS; i++) s += `\x1b[${top + 1 + i};1H\x1b[2K${this.fit(lines[i] ?? '')}`;
    this.out.write(`${s}\x1b8`);
  }
}
