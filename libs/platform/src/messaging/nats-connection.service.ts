import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { connect, NatsConnection, Events } from 'nats';

/**
 * A raw NATS connection for what the Nest transport does not cover: JetStream
 * key-value buckets and the readiness probe. Absent when no NATS_URL is set.
 */
@Injectable()
export class NatsConnectionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NatsConnectionService.name);
  private nc?: NatsConnection;
  private reconnectListeners: Array<() => void> = [];

  constructor(private readonly url: string | undefined, private readonly name: string) {}

  /** Connect at boot so readiness reflects NATS from the start, not from first use. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.url) await this.connection();
  }

  get enabled(): boolean {
    return Boolean(this.url);
  }

  private connecting?: Promise<NatsConnection>;

  async connection(): Promise<NatsConnection | undefined> {
    if (!this.url) return undefined;
    // One connection however many callers race for it at boot.
    this.connecting ??= connect({ servers: this.url, name: this.name, maxReconnectAttempts: -1, reconnectTimeWait: 500 }).then((nc) => {
      this.nc = nc;
      void this.watch(nc);
      return nc;
    });
    this.connecting.catch(() => (this.connecting = undefined));
    return this.connecting;
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
        for (const fn of this.reconnectListeners) fn();
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc?.close());
  }
}
