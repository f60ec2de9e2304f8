import { Logger } from '@nestjs/common';
import { KvRevisionConflict, kvWriteIfRevision } from '../common/kv-write';
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
 */
export class JetStreamNonceStore extends NonceStore {
  private readonly logger = new Logger(JetStreamNonceStore.name);
  private kv?: Promise<KV>;

  constructor(
    private readonly nc: () => Promise<NatsConnection | undefined>,
    private readonly bucket: string,
    private readonly ttlMs: number,
  ) {
    super();
  }

  private bucketView(): Promise<KV> {
    if (!this.kv) {
      this.kv = (async () => {
        const nc = await this.nc();
        if (!nc) throw new Error('NATS is not configured');
        return nc.jetstream().views.kv(this.bucket, { ttl: this.ttlMs, history: 1 });
      })();
      this.kv.catch(() => (this.kv = undefined));
    }
    return this.kv;
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
    let nc: NatsConnection | undefined;
    try {
      await this.bucketView();
      nc = await this.nc();
      if (!nc) throw new Error('NATS is not configured');
    } catch (err) {
      this.unavailable(err);
      for (const c of batch) c.reject(err);
      return;
    }
    // Every request is issued before any await, so the client flushes them in one write.
    for (const c of batch) {
      kvWriteIfRevision(nc, this.bucket, c.nonce, ONE, 0, CLAIM_TIMEOUT_MS).then(
        () => c.resolve(true),
        (err: unknown) => {
          // The nonce is already there: a replay.
          if (err instanceof KvRevisionConflict) return c.resolve(false);
          this.unavailable(err);
          c.reject(err);
        },
      );
    }
  }

  private unavailable(err: unknown): void {
    this.logger.error(`nonce store unavailable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const ONE = new Uint8Array([1]);
const CLAIM_TIMEOUT_MS = 2000;
/** A KV key is one subject token; anything else is not a nonce we issued a format for. */
const NONCE_TOKEN = /^[A-Za-z0-9_=-]{1,200}$/;
