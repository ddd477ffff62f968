/**
 * Compressed time: simulated time advances `daysPerSecond` days per wall second, and events
 * are released when simulated time reaches them, at most `rate` per wall second. When the
 * cap binds, simulated time waits at the first held event instead of running ahead of the
 * traffic: the segmenter's stream clock (the latest event time) and the demo's clock agree.
 */
const DAY_MS = 86_400_000;
/** Tokens saved up while idle, in seconds of rate: a short burst after a quiet spell, no flood. */
const BURST_SECONDS = 0.5;

export class Pacer {
  /** Simulated now (epoch ms). */
  private sim: number;
  private tokens = 0;
  private target: number;
  private readonly speed: number;
  private readonly rate: number;

  constructor(simStart: number, daysPerSecond: number, rate: number) {
    this.sim = simStart;
    this.target = simStart;
    this.speed = (daysPerSecond * DAY_MS) / 1000; // simulated ms per wall ms
    this.rate = rate;
  }

  /** Simulated now (epoch ms). */
  now(): number {
    return this.sim;
  }

  /** Wall time passed: simulated time may advance and more events may go. */
  tick(wallMs: number): void {
    this.tokens = Math.min(this.tokens + (this.rate * wallMs) / 1000, Math.max(1, this.rate * BURST_SECONDS));
    this.target = this.sim + wallMs * this.speed;
  }

  /**
   * Whether an event at `eventTime` (events come in time order) may go now; consumes a token
   * when it may. A refusal ends the tick's releases.
   */
  release(eventTime: number): boolean {
    if (eventTime > this.target || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Ends a tick: simulated time moves to the target, or stops at `heldTime` (the next event,
   * not released) when the rate cap held back an event that was already due.
   */
  settle(heldTime: number | null): void {
    this.sim = heldTime !== null && heldTime <= this.target ? Math.max(this.sim, heldTime) : this.target;
  }
}
