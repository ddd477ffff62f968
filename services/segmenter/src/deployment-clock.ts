/**
 * The deployment's stream clock as this member sees it: the latest event time over all
 * partitions, shared by every member through Redis (`<prefix>:stream-clock`, advanced by
 * advanceStreamClock-1.lua, never back). The member keeps the latest value it wrote or read;
 * an as-of replay pins it to the one instant every customer is evaluated at.
 */
import { advanceStreamClock, readStreamClock } from '@crm/store';
import type { Redis } from 'ioredis';

export class DeploymentClock {
  private readonly redis: Redis;
  private readonly prefix: string;
  /** The latest clock value this member wrote or read (ms); 0 before any. */
  private known = 0;
  private pinned: number | null = null;
  /** Whether the shared clock was read at least once. */
  private loaded = false;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /** "Now" on the stream clock: the pinned instant, else the latest value known. */
  now(): number {
    return this.pinned ?? this.known;
  }

  /** The latest value known, pinned or not (the admission reference's share). */
  latest(): number {
    return this.known;
  }

  /** Moves the shared clock to `t` (ms) unless it is already later; learns the result. */
  async advance(t: number): Promise<void> {
    if (t <= this.known) return;
    const after = await advanceStreamClock(this.redis, this.prefix, t);
    if (after > this.known) this.known = after;
  }

  /** Reads the shared clock (other members' advances); null when none is stored. */
  async refresh(): Promise<number | null> {
    const v = await readStreamClock(this.redis, this.prefix);
    if (v !== null && v > this.known) this.known = v;
    this.loaded = true;
    return v;
  }

  /**
   * Reads the shared clock once, before this member's first batch measures admission from it
   * (not at start: a start without Redis must still answer signals and readiness).
   */
  async load(): Promise<void> {
    if (!this.loaded) await this.refresh();
  }

  /**
   * Writes the latest value known back (never moving the shared clock back): after Redis
   * reconnected, it may have lost the key or its last advances.
   */
  async restore(): Promise<void> {
    if (this.known > 0) await advanceStreamClock(this.redis, this.prefix, this.known);
  }

  /** From now on `now()` is `t` (an as-of replay's instant). */
  pin(t: number): void {
    this.pinned = t;
  }
}
