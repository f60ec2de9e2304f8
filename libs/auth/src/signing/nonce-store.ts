import { Logger } from '@nestjs/common';
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

  async claim(nonce: string): Promise<boolean> {
    const kv = await this.bucketView();
    try {
      await kv.create(nonce, new Uint8Array([1]));
      return true;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (/wrong last sequence|key exists/i.test(msg)) return false;
      this.logger.error(`nonce store unavailable: ${msg}`);
      throw err;
    }
  }
}
