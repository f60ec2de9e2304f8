import { Logger } from '@nestjs/common';
import { isNoResponders, JetStreamBucket, KvRevisionConflict, KvUnavailable, kvWriteIfRevision, type KvStorage } from '@portcullis/platform';
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

  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {
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
    this.kv = new JetStreamBucket(nc, { bucket, maxAgeMs: ttlMs, storage: opts.storage ?? 'file', replicas: opts.replicas });
  }

  private pending: Array<{ nonce: string; resolve: (v: boolean) => void; reject: (e: unknown) => void }> = [];

  /**
   * One write that JetStream accepts only if the nonce has no entry yet
   * (kvWriteIfRevision with 0; nonces are never deleted, so no delete marker
   * can stand in the way). Claims made in one event-loop turn are sent together, so concurrent signed
   * requests share one socket write (each write was a large part of the cost).
   */
  claim(nonce: string): Promise<boolean> {
    if (!NONCE_TOKEN.test(nonce)) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      this.pending.push({ nonce, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.send());
    });
  }

  private async send(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    let nc: NatsConnection;
    let kv: KV;
    try {
      nc = await this.kv.connection();
      kv = await this.kv.bound();
    } catch (err) {
      this.unavailable(err);
      for (const c of batch) c.reject(err);
      return;
    }
    // Every request is issued before any await, so the client flushes them in one write.
    for (const c of batch) this.write(nc, kv, c, true);
  }

  private write(nc: NatsConnection, kv: KV, c: (typeof this.pending)[number], retry: boolean): void {
    kvWriteIfRevision(nc, this.kv.name, c.nonce, ONE, 0, CLAIM_TIMEOUT_MS).then(
      () => c.resolve(true),
      (err: unknown) => {
        // The nonce is already there: a replay.
        if (err instanceof KvRevisionConflict) return c.resolve(false);
        this.kv.invalidate(kv);
        // Nobody answered, so nothing was written: the bucket is gone (a NATS restart); bind it again and try once more.
        if (retry && isNoResponders(err)) {
          this.kv.bound().then(
            (again) => this.write(nc, again, c, false),
            (e: unknown) => this.fail(c, e),
          );
          return;
        }
        this.fail(c, err);
      },
    );
  }

  private fail(c: (typeof this.pending)[number], err: unknown): void {
    const e = err instanceof KvUnavailable ? err : new KvUnavailable(this.kv.name, { cause: err });
    this.unavailable(e);
    c.reject(e);
  }

  private unavailable(err: unknown): void {
    this.logger.error(`nonce store unavailable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const ONE = new Uint8Array([1]);
const CLAIM_TIMEOUT_MS = 2000;
/** A KV key is one subject token; anything else is not a nonce we issued a format for. */
const NONCE_TOKEN = /^[A-Za-z0-9_=-]{1,200}$/;
