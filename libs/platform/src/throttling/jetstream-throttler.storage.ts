import type { ThrottlerStorage } from '@nestjs/throttler';
import { isNoResponders, JetStreamBucket, KvRevisionConflict, KvUnavailable, kvWriteIfRevision, type KvStorage } from '../messaging';
import type { KV, NatsConnection } from 'nats';
import { createHash } from 'node:crypto';
import { DependencyUnavailable } from '../errors/dependency-unavailable';
import { applyHit, ThrottlerStorageRecord, ThrottleWindow } from './throttle-window';

const MAX_ATTEMPTS = 25;
/** Entries whose last state this replica remembers, to write without reading first. */
const MAX_REMEMBERED = 10_000;

const WRITE_TIMEOUT_MS = 2000;

/**
 * A @nestjs/throttler v6 storage shared by every replica: one JetStream
 * key-value entry per (throttler, tracker key) holding the fixed-window state
 * (see applyHit). Each increment reads the entry and writes it back with
 * a revision-checked write (what KV's `create`/`update` send),
 * retrying when another replica won the race, so no hit is lost or counted
 * twice. The bucket's max age removes idle entries. The bucket is kept on
 * disk (file storage) by default: with memory storage every NATS restart
 * would hand each client a fresh budget, which an attacker guessing device
 * secrets could wait for or provoke. It is bound again after every reconnect
 * and whenever a write finds it gone (JetStreamBucket).
 *
 * Each replica remembers the last state and revision it saw per entry and
 * writes against that directly (one round trip); a stale revision fails and
 * the entry is read again. A remembered block is answered locally until it
 * ends, since nothing lifts a block early.
 *
 * Usage (the same for every app):
 *
 *   new JetStreamThrottlerStorage(() => nats.connectedNow(), KvBuckets.myLimits, 60_000)
 *
 * - `nc`: how to get the connection (NatsConnectionService.connection).
 * - `bucket`: the KV bucket, created on first use; one per app/feature, named in libs/contracts.
 * - `maxAgeMs`: how long an idle entry is kept; must be >= the longest ttl and
 *   blockDuration of any throttler using this storage (a shorter one would
 *   forget counts early, so increment refuses it). A bucket found with a
 *   shorter max age is widened.
 * - `opts.replicas`: copies in a NATS cluster (NATS_KV_REPLICAS); `opts.storage`: 'file' (default) or 'memory'.
 *
 * Replicas decide window ends by their own clocks: keep them NTP-synchronised.
 * A NATS failure rejects the increment with DependencyUnavailable (the request
 * is answered 503 with Retry-After): a limiter that silently stops limiting is
 * worse than a refused request.
 */
export class JetStreamThrottlerStorage implements ThrottlerStorage {
  readonly kv: JetStreamBucket;
  private readonly seen = new Map<string, { revision: number; state?: ThrottleWindow }>();

  constructor(
    nc: () => Promise<NatsConnection | undefined>,
    private readonly bucket: string,
    private readonly maxAgeMs: number,
    opts: { replicas?: number; storage?: KvStorage } = {},
  ) {
    this.kv = new JetStreamBucket(nc, { bucket, maxAgeMs, storage: opts.storage ?? 'file', replicas: opts.replicas });
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (ttl > this.maxAgeMs || blockDuration > this.maxAgeMs) {
      throw new Error(`throttler "${throttlerName}": ttl/blockDuration exceed the bucket max age (${this.maxAgeMs} ms)`);
    }
    try {
      return await this.count(key, ttl, limit, blockDuration, throttlerName);
    } catch (err) {
      if (err instanceof KvUnavailable) throw new DependencyUnavailable('NATS', undefined, { cause: err });
      throw err;
    }
  }

  private async count(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    let kv = await this.kv.bound();
    // Hashing keeps entry names within KV's key alphabet and free of whatever the tracker was.
    const entryKey = createHash('sha256').update(`${throttlerName}\u0000${key}`).digest('hex');
    let known = this.seen.get(entryKey);
    let rebound = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!known || attempt > 0) known = await this.read(kv, entryKey);
      const step = applyHit(known?.state, Date.now(), ttl, limit, blockDuration);
      if (!step.next) return step.record;
      const data = new TextEncoder().encode(JSON.stringify(step.next));
      try {
        const nc = await this.kv.connection();
        // Revision-checked, so a replica that raced us makes this fail rather than overwrite.
        const revision = await kvWriteIfRevision(nc, this.bucket, entryKey, data, known?.revision ?? 0, WRITE_TIMEOUT_MS);
        this.remember(entryKey, { revision, state: step.next });
        return step.record;
      } catch (err) {
        if (err instanceof KvUnavailable) throw err;
        if (!(err instanceof KvRevisionConflict)) {
          this.kv.invalidate(kv);
          // Nobody answered, so nothing was written: the bucket is gone (a NATS restart); bind it again once and count again.
          if (rebound || !isNoResponders(err)) throw new KvUnavailable(this.bucket, { cause: err });
          rebound = true;
          this.seen.delete(entryKey);
          kv = await this.kv.bound();
          continue;
        }
        // Another replica (or request) wrote first, or the entry expired: re-read and count again.
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
    throw new Error(`throttler "${throttlerName}": too much contention on one key`);
  }

  /** The entry's current state; a deleted or expired entry reads as a revision to write over, or nothing. */
  private async read(kv: KV, entryKey: string): Promise<{ revision: number; state?: ThrottleWindow } | undefined> {
    let entry;
    try {
      entry = await kv.get(entryKey);
    } catch (err) {
      this.kv.invalidate(kv);
      throw new KvUnavailable(this.bucket, { cause: err });
    }
    if (!entry) return undefined;
    const live = entry.operation === 'PUT' && entry.value.length > 0;
    return { revision: entry.revision, state: live ? entry.json<ThrottleWindow>() : undefined };
  }

  private remember(entryKey: string, v: { revision: number; state?: ThrottleWindow }): void {
    this.seen.delete(entryKey);
    this.seen.set(entryKey, v);
    // Oldest first in a Map: drop the least recently written.
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value as string);
  }

  /** The entry's window as stored, without counting a hit (undefined: none). */
  async peek(key: string, throttlerName: string): Promise<ThrottleWindow | undefined> {
    const entryKey = createHash('sha256').update(`${throttlerName}\u0000${key}`).digest('hex');
    try {
      return (await this.read(await this.kv.bound(), entryKey))?.state;
    } catch (err) {
      if (err instanceof KvUnavailable) throw new DependencyUnavailable('NATS', undefined, { cause: err });
      throw err;
    }
  }
}
