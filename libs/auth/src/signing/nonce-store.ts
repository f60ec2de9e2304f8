import { Logger } from '@nestjs/common';
import {
  isNoResponders,
  isWrongLastSequence,
  JetStreamBucket,
  KvUnavailable,
  type KvStorage,
} from '@portcullis/platform';
import type { KV, NatsConnection } from 'nats';

/** Remembers nonces for as long as a signature could still be accepted. */
export abstract class NonceStore {
  /** true the first time a nonce is seen within the window, false on every replay. */
  abstract claim(nonce: string): Promise<boolean>;
}

/** For a single process with no NATS: the all-in-one runner and local development. */
export class MemoryNonceStore extends NonceStore {
  private readonly seen = new Map<string, number>();
  private lastSweep = Date.now();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  async claim(nonce: string): Promise<boolean> {
    const t = this.now();
    if (t - this.lastSweep > this.ttlMs) this.sweep(t);
    const until = this.seen.get(nonce);
    if (until !== undefined && until > t) return false;
    this.seen.set(nonce, t + this.ttlMs);
    return true;
  }

  private sweep(t: number): void {
    for (const [k, until] of this.seen) if (until <= t) this.seen.delete(k);
    this.lastSweep = t;
  }
}

/**
 * Shared by every replica: a JetStream key-value bucket whose entries expire
 * after the window. `create` succeeds only when the key does not exist, so two
 * replicas racing on one nonce cannot both accept it.
 *
 * The bucket is kept on disk (file storage) by default: a NATS restart that
 * forgot the nonces would let a captured signed request be replayed for the
 * rest of its skew window. Its max age is widened at bind time when this
 * replica's window needs longer (JetStreamBucket), and it is bound again after
 * every reconnect, or when a claim finds it gone.
 *
 * A claim that cannot be made (NATS down, bucket unusable) rejects with
 * KvUnavailable: the request is refused, as an outage (503), not as a replay.
 */
export class JetStreamNonceStore extends NonceStore {
  private readonly logger = new Logger(JetStreamNonceStore.name);
  readonly kv: JetStreamBucket;

  constructor(
    nc: () => Promise<NatsConnection | undefined>,
    bucket: string,
    ttlMs: number,
    opts: { replicas?: number; storage?: KvStorage } = {},
  ) {
    super();
    this.kv = new JetStreamBucket(nc, {
      bucket,
      maxAgeMs: ttlMs,
      storage: opts.storage ?? 'file',
      replicas: opts.replicas,
    });
  }

  /**
   * One `kv.create`, which JetStream accepts only if the nonce has no entry
   * yet (nonces are never deleted, so no delete marker can stand in the way).
   */
  async claim(nonce: string): Promise<boolean> {
    if (!NONCE_TOKEN.test(nonce)) return false;
    return this.create(nonce, true);
  }

  private async create(nonce: string, retry: boolean): Promise<boolean> {
    let kv: KV;
    try {
      kv = await this.kv.bound();
    } catch (err) {
      throw this.fail(err);
    }
    try {
      await kv.create(nonce, ONE);
      return true;
    } catch (err) {
      // The nonce is already there: a replay.
      if (isWrongLastSequence(err)) return false;
      this.kv.invalidate(kv);
      // Nobody answered, so nothing was written: the bucket is gone (a NATS restart); bind it again and try once more.
      if (retry && isNoResponders(err)) return this.create(nonce, false);
      throw this.fail(err);
    }
  }

  private fail(err: unknown): KvUnavailable {
    const e = err instanceof KvUnavailable ? err : new KvUnavailable(this.kv.name, { cause: err });
    this.unavailable(e);
    return e;
  }

  private unavailable(err: unknown): void {
    this.logger.error(`nonce store unavailable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const ONE = new Uint8Array([1]);
/** A KV key is one subject token; anything else is not a nonce we issued a format for. */
const NONCE_TOKEN = /^[A-Za-z0-9_=-]{1,200}$/;
