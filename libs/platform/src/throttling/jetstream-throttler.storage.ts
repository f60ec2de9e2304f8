import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { KvRevisionConflict, kvWriteIfRevision } from '@portcullis/auth';
import { StorageType, type KV, type NatsConnection } from 'nats';
import { createHash } from 'node:crypto';
import { applyHit, ThrottleWindow } from './throttle-window';

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
 * twice. The bucket's max age removes idle entries. The bucket is kept in
 * memory on the NATS server: counts are short-lived and need no disk (they do
 * not survive a NATS restart).
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
 *   forget counts early, so increment refuses it).
 *
 * Replicas decide window ends by their own clocks: keep them NTP-synchronised.
 * A NATS failure rejects the increment (the guard then answers 500): a limiter
 * that silently stops limiting is worse than a refused request.
 */
export class JetStreamThrottlerStorage implements ThrottlerStorage {
  private kv?: Promise<KV>;
  private readonly seen = new Map<string, { revision: number; state?: ThrottleWindow }>();

  constructor(
    private readonly nc: () => Promise<NatsConnection | undefined>,
    private readonly bucket: string,
    private readonly maxAgeMs: number,
  ) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (ttl > this.maxAgeMs || blockDuration > this.maxAgeMs) {
      throw new Error(`throttler "${throttlerName}": ttl/blockDuration exceed the bucket max age (${this.maxAgeMs} ms)`);
    }
    const kv = await this.bucketView();
    // Hashing keeps entry names within KV's key alphabet and free of whatever the tracker was.
    const entryKey = createHash('sha256').update(`${throttlerName}\u0000${key}`).digest('hex');
    let known = this.seen.get(entryKey);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!known || attempt > 0) known = await this.read(kv, entryKey);
      const step = applyHit(known?.state, Date.now(), ttl, limit, blockDuration);
      if (!step.next) return step.record;
      const data = new TextEncoder().encode(JSON.stringify(step.next));
      try {
        const nc = await this.nc();
        if (!nc) throw new Error('NATS is not configured');
        // Revision-checked, so a replica that raced us makes this fail rather than overwrite.
        const revision = await kvWriteIfRevision(nc, this.bucket, entryKey, data, known?.revision ?? 0, WRITE_TIMEOUT_MS);
        this.remember(entryKey, { revision, state: step.next });
        return step.record;
      } catch (err) {
        if (!(err instanceof KvRevisionConflict)) throw err;
        // Another replica (or request) wrote first, or the entry expired: re-read and count again.
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
    throw new Error(`throttler "${throttlerName}": too much contention on one key`);
  }

  /** The entry's current state; a deleted or expired entry reads as a revision to write over, or nothing. */
  private async read(kv: KV, entryKey: string): Promise<{ revision: number; state?: ThrottleWindow } | undefined> {
    const entry = await kv.get(entryKey);
    if (!entry) return undefined;
    const live = entry.operation === 'PUT' && entry.value.length > 0;
    return { revision: entry.revision, state: live ? (entry.json() as ThrottleWindow) : undefined };
  }

  private remember(entryKey: string, v: { revision: number; state?: ThrottleWindow }): void {
    this.seen.delete(entryKey);
    this.seen.set(entryKey, v);
    // Oldest first in a Map: drop the least recently written.
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value as string);
  }

  private bucketView(): Promise<KV> {
    if (!this.kv) {
      this.kv = (async () => {
        const nc = await this.nc();
        if (!nc) throw new Error('NATS is not configured');
        return nc.jetstream().views.kv(this.bucket, { ttl: this.maxAgeMs, history: 1, storage: StorageType.Memory });
      })();
      this.kv.catch(() => (this.kv = undefined));
    }
    return this.kv;
  }

  /** The entry's window as stored, without counting a hit (undefined: none). */
  async peek(key: string, throttlerName: string): Promise<ThrottleWindow | undefined> {
    const entryKey = createHash('sha256').update(`${throttlerName}\u0000${key}`).digest('hex');
    return (await this.read(await this.bucketView(), entryKey))?.state;
  }
}
