import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { JetStreamBucket } from '../messaging/kv-bucket';
import { connect, NatsConnection, Events } from 'nats';
import { DependencyUnavailable } from '../errors/dependency-unavailable';

/**
 * NATS_URL as a server list: one URL, or several separated by commas (the
 * nodes of a cluster), so the client can connect to and fail over between any.
 */
export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface NatsConnectionOptions {
  /** Copies of each key-value bucket in a NATS cluster (NATS_KV_REPLICAS). */
  kvReplicas?: number;
}

/** How long boot waits for NATS before starting not-ready. */
const BOOT_WAIT_MS = 3000;

/**
 * A raw NATS connection for what the Nest transport does not cover: JetStream
 * key-value buckets and the readiness probe. Absent when no NATS_URL is set.
 */
@Injectable()
export class NatsConnectionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NatsConnectionService.name);
  private nc?: NatsConnection;
  private reconnectListeners: Array<() => void> = [];
  private readonly buckets: JetStreamBucket[] = [];

  constructor(
    private readonly url: string | undefined,
    private readonly name: string,
    private readonly opts: NatsConnectionOptions = {},
  ) {}

  /** Replicas for every key-value bucket this app creates (1 unless NATS_KV_REPLICAS says otherwise). */
  get kvReplicas(): number {
    return this.opts.kvReplicas ?? 1;
  }

  /**
   * Keeps a bucket the app's requests need usable: bound again after every
   * reconnect (a NATS restart may have removed it) and probed by readiness.
   */
  track<B extends JetStreamBucket>(bucket: B): B {
    if (!this.buckets.includes(bucket)) this.buckets.push(bucket);
    // Bound ahead of the first request, once connected.
    if (this.isConnected()) bucket.rebind();
    return bucket;
  }

  get trackedBuckets(): readonly JetStreamBucket[] {
    return this.buckets;
  }

  /**
   * Connect at boot, so a reachable NATS is connected before the app listens;
   * but wait at most a few seconds: with NATS down the app still starts, live
   * and not ready, and becomes ready when NATS appears.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.url) return;
    const connected = this.connection().then(
      () => undefined,
      (err: unknown) => this.logger.warn(`NATS not reachable yet: ${String(err)}`),
    );
    await Promise.race([connected, new Promise((r) => setTimeout(r, BOOT_WAIT_MS).unref())]);
  }

  get enabled(): boolean {
    return Boolean(this.url);
  }

  private connecting?: Promise<NatsConnection>;

  async connection(): Promise<NatsConnection | undefined> {
    if (!this.url) return undefined;
    // One connection however many callers race for it at boot.
    this.connecting ??= this.connectWithRetry(this.url).then((nc) => {
      this.nc = nc;
      void this.watch(nc);
      for (const b of this.buckets) b.rebind();
      return nc;
    });
    this.connecting.catch(() => (this.connecting = undefined));
    return this.connecting;
  }

  private closing = false;

  /** Retries the first connect until NATS answers or the app shuts down; the timer never holds the process. */
  private async connectWithRetry(url: string): Promise<NatsConnection> {
    for (;;) {
      try {
        return await connect({
          servers: natsServers(url),
          name: this.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
        });
      } catch (err) {
        if (this.closing) throw err;
        await new Promise((r) => setTimeout(r, 500).unref());
        if (this.closing) throw err;
      }
    }
  }

  /**
   * The connection for work done inside a request (nonces, rate limits): fails
   * at once while NATS is down instead of holding the request until it is back.
   */
  async connectedNow(): Promise<NatsConnection | undefined> {
    if (!this.url) return undefined;
    if (!this.isConnected()) throw new DependencyUnavailable('NATS');
    return this.nc;
  }

  /** The connection if it is up right now, for fire-and-forget publishes; never waits. */
  currentConnection(): NatsConnection | undefined {
    return this.isConnected() ? this.nc : undefined;
  }

  isConnected(): boolean {
    return Boolean(this.nc && !this.nc.isClosed() && !this.nc.isDraining() && this.connected);
  }

  /** Called after every reconnect, e.g. to re-sync state that events may have missed. */
  onReconnect(fn: () => void): void {
    this.reconnectListeners.push(fn);
  }

  private connected = true;

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) {
        this.connected = false;
        this.logger.warn('NATS disconnected');
      } else if (s.type === Events.Reconnect) {
        this.connected = true;
        this.logger.log('NATS reconnected');
        // The server may be a restarted one that lost the buckets (memory storage, an empty store): bind them again.
        for (const b of this.buckets) b.rebind();
        for (const fn of this.reconnectListeners) fn();
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    for (const b of this.buckets) b.stop();
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc?.close());
  }
}
