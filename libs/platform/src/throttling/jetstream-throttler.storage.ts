import type { ThrottlerStorage } from '@nestjs/throttler';
import { isNoResponders, isWrongLastSequence, JetStreamBucket, KvUnavailable, type KvStorage } from '../messaging';
import type { KV, NatsConnection } from 'nats';
import { createHash } from 'node:crypto';
import { DependencyUnavailable } from '../errors/dependency-unavailable';
import { applyHit, ThrottlerStorageRecord, ThrottleWindow } from './throttle-window';

/** Writes lost to other replicas before a hit gives up; only a key hammered from many replicas at once gets near it. */
const MAX_ATTEMPTS = 25;

/** An entry as read: the revision the next write must name, and its window (none when deleted). */
interface StoredWindow {
  revision: number;
  state?: ThrottleWindow;
}

/**
 * A @nestjs/throttler v6 storage shared by every replica: one JetStream
 * key-value entry per (throttler, tracker key) holding the fixed-window state
 * (see applyHit). Each hit reads the entry, applies the window and writes the
 * result back with `kv.create` (no entry yet) or `kv.update` at the revision
 * it read. Both are refused when another replica wrote in between, and the hit
 * is then read and counted again, so no hit is lost or counted twice. The
 * bucket's max age removes idle entries. The bucket is kept on disk (file
 * storage) by default: with memory storage every NATS restart would hand each
 * client a fresh budget, which an attacker guessing device secrets could wait
 * for or provoke. It is bound again after every reconnect and whenever a
 * write finds it gone (JetStreamBucket).
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

  constructor(
    nc: () => Promise<NatsConnection | undefined>,
    private readonly bucket: string,
    private readonly maxAgeMs: number,
    opts: { replicas?: number; storage?: KvStorage } = {},
  ) {
    this.kv = new JetStreamBucket(nc, { bucket, maxAgeMs, storage: opts.storage ?? 'file', replicas: opts.replicas });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (ttl > this.maxAgeMs || blockDuration > this.maxAgeMs) {
      throw new Error(
        `throttler "${throttlerName}": ttl/blockDuration exceed the bucket max age (${this.maxAgeMs} ms)`,
      );
    }
    try {
      return await this.count(entryKeyOf(key, throttlerName), ttl, limit, blockDuration, throttlerName);
    } catch (err) {
      if (err instanceof KvUnavailable) throw new DependencyUnavailable('NATS', undefined, { cause: err });
      throw err;
    }
  }

  /** The entry's window as stored, without counting a hit (undefined: none). */
  async peek(key: string, throttlerName: string): Promise<ThrottleWindow | undefined> {
    try {
      return (await this.read(await this.kv.bound(), entryKeyOf(key, throttlerName)))?.state;
    } catch (err) {
      if (err instanceof KvUnavailable) throw new DependencyUnavailable('NATS', undefined, { cause: err });
      throw err;
    }
  }

  private async count(
    entryKey: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    let kv = await this.kv.bound();
    let rebound = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.read(kv, entryKey);
      const step = applyHit(stored?.state, Date.now(), ttl, limit, blockDuration);
      // A hit refused while blocked changes nothing: nothing to write.
      if (!step.next) return step.record;
      const data = JSON.stringify(step.next);
      try {
        // An entry expired by the bucket's max age is gone (create); a deleted
        // one leaves a marker whose revision is the one to write over (update).
        if (stored) await kv.update(entryKey, data, stored.revision);
        else await kv.create(entryKey, data);
        return step.record;
      } catch (err) {
        if (!isWrongLastSequence(err)) {
          this.kv.invalidate(kv);
          // Nobody answered, so nothing was written: the bucket is gone (a NATS restart); bind it again once and count again.
          if (rebound || !isNoResponders(err)) throw new KvUnavailable(this.bucket, { cause: err });
          rebound = true;
          kv = await this.kv.bound();
          continue;
        }
        // Another replica (or request) wrote first: wait a moment, so racing writers fall out of step, then read and count again.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
    throw new Error(`throttler "${throttlerName}": too much contention on one key`);
  }

  private async read(kv: KV, entryKey: string): Promise<StoredWindow | undefined> {
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
}

/** Hashing keeps entry names within KV's key alphabet and free of whatever the tracker was (an IP, a device id). */
function entryKeyOf(key: string, throttlerName: string): string {
  return createHash('sha256').update(`${throttlerName}\u0000${key}`).digest('hex');
}
