import type { ThrottlerStorage } from '@nestjs/throttler';
import { applyHit, ThrottlerStorageRecord, ThrottleWindow } from './throttle-window';

/**
 * The same counting rule as JetStreamThrottlerStorage, in this process only.
 * For the all-in-one runner with no NATS_URL: replicas would each count alone.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, ThrottleWindow>();
  private lastSweep = Date.now();

  constructor(private readonly now: () => number = Date.now) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const t = this.now();
    if (t - this.lastSweep > 60_000) this.sweep(t);
    const id = `${throttlerName}\u0000${key}`;
    const step = applyHit(this.windows.get(id), t, ttl, limit, blockDuration);
    if (step.next) this.windows.set(id, step.next);
    return step.record;
  }

  private sweep(t: number): void {
    for (const [k, w] of this.windows) if (w.windowEndsAt <= t && w.blockedUntil <= t) this.windows.delete(k);
    this.lastSweep = t;
  }

  /** The key's window as stored, without counting a hit (undefined: none). */
  async peek(key: string, throttlerName: string): Promise<ThrottleWindow | undefined> {
    return this.windows.get(`${throttlerName}\u0000${key}`);
  }
}
