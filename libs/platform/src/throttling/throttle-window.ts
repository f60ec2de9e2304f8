import type { ThrottlerStorage } from '@nestjs/throttler';

/** What a throttler storage answers for one hit (the package does not export its name for it). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One key's fixed-window state, as stored (JSON in the JetStream bucket, an
 * object in memory). Times are epoch milliseconds.
 */
export interface ThrottleWindow {
  hits: number;
  /** When the current counting window ends. */
  windowEndsAt: number;
  /** When a block ends; 0 while not blocked. */
  blockedUntil: number;
}

export interface ThrottleStep {
  /** The state to store, or undefined when nothing changes (a request refused while blocked). */
  next?: ThrottleWindow;
  record: ThrottlerStorageRecord;
}

const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));

/**
 * The one counting rule both storages apply, so a replica set on NATS and the
 * in-memory fallback refuse the same request. `ttl` and `blockDuration` are in
 * milliseconds, as @nestjs/throttler v6 passes them; the record it answers is
 * in seconds, as the guard writes it into Retry-After / X-RateLimit-Reset.
 *
 * - A window opens on the first hit and lasts `ttl`; hits within it are counted.
 * - The hit that exceeds `limit` starts a block of `blockDuration` (0 means: refuse
 *   until the window ends). While blocked, hits are refused and not counted.
 * - When the block or the window has ended, counting starts again from zero.
 */
export function applyHit(
  prev: ThrottleWindow | undefined,
  now: number,
  ttl: number,
  limit: number,
  blockDuration: number,
): ThrottleStep {
  if (prev && prev.blockedUntil > now) {
    return {
      record: {
        totalHits: prev.hits,
        timeToExpire: seconds(prev.windowEndsAt - now),
        isBlocked: true,
        timeToBlockExpire: seconds(prev.blockedUntil - now),
      },
    };
  }
  const fresh = !prev || prev.windowEndsAt <= now || prev.blockedUntil !== 0;
  const state: ThrottleWindow = fresh
    ? { hits: 1, windowEndsAt: now + ttl, blockedUntil: 0 }
    : { hits: prev.hits + 1, windowEndsAt: prev.windowEndsAt, blockedUntil: 0 };
  if (state.hits > limit) {
    state.blockedUntil = blockDuration > 0 ? now + blockDuration : state.windowEndsAt;
  }
  const isBlocked = state.blockedUntil > now;
  return {
    next: state,
    record: {
      totalHits: state.hits,
      timeToExpire: seconds(state.windowEndsAt - now),
      isBlocked,
      // At least 1 s while blocked: Retry-After: 0 would invite an immediate retry.
      timeToBlockExpire: isBlocked ? Math.max(1, seconds(state.blockedUntil - now)) : 0,
    },
  };
}
