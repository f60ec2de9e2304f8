import {
  Controller,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { ClientProxy, EventPattern, Payload } from '@nestjs/microservices';
import {
  DeviceRevokedEvent,
  JwksUpdatedEvent,
  revocationSnapshotSubject,
  RevocationSnapshot,
  Subjects,
} from '@portcullis/contracts';
import type { NatsConnection } from 'nats';
import { firstValueFrom, timeout } from 'rxjs';
import { Internal } from '../guard/decorators';
import { DeviceTokenVerifier } from './device-token.verifier';

/** The ClientProxy used without NATS (the in-process transport); the app's EVENTS_CLIENT. */
export const REVOCATION_CLIENT = Symbol('REVOCATION_CLIENT');
/** The raw NATS side (NatsConnectionService fits): snapshot requests and reconnect notices. */
export const REVOCATION_NATS = Symbol('REVOCATION_NATS');
export interface RevocationNatsSource {
  readonly enabled: boolean;
  connection(): Promise<NatsConnection | undefined>;
  onReconnect(fn: () => void): void;
}

/** Optional counters (the platform's MetricsService fits). */
export const DEVICE_TOKEN_METRICS = Symbol('DEVICE_TOKEN_METRICS');
export interface DeviceTokenMetrics {
  readonly revocationsReceived?: { inc(labels: { app: string }): void };
  readonly app?: string;
}

/** Feeds the verifier's revocation map from device-auth's events (control-plane subscriptions). */
@Internal()
@Controller()
export class RevocationEventsController {
  constructor(
    private readonly verifier: DeviceTokenVerifier,
    @Optional() @Inject(DEVICE_TOKEN_METRICS) private readonly metrics?: DeviceTokenMetrics | null,
  ) {}

  @EventPattern(Subjects.deviceRevoked)
  revoked(@Payload() e: DeviceRevokedEvent): void {
    if (e?.iss !== this.verifier.issuer || typeof e.device_id !== 'string') return;
    this.verifier.revocations.raise(e.device_id, Number(e.min_generation));
    this.metrics?.revocationsReceived?.inc({ app: this.metrics.app ?? 'unknown' });
  }

  @EventPattern(Subjects.jwksUpdated)
  async jwksUpdated(@Payload() e: JwksUpdatedEvent): Promise<void> {
    if (e?.iss === this.verifier.issuer) await this.verifier.reloadKeys();
  }
}

/**
 * Pulls the full revocation snapshot from device-auth when the app starts
 * (retrying until device-auth answers) and again after every NATS reconnect,
 * so events missed while disconnected are not missed for good.
 */
@Injectable()
export class RevocationSyncService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RevocationSync');
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;

  constructor(
    private readonly verifier: DeviceTokenVerifier,
    @Inject(REVOCATION_CLIENT) private readonly client: ClientProxy,
    @Inject(REVOCATION_NATS) private readonly nats: RevocationNatsSource | null,
  ) {}

  /** Also re-synced on this period, in case device-auth's own publish was lost while this app stayed connected. */
  static resyncIntervalMs = 60_000;
  private interval?: NodeJS.Timeout;

  onApplicationBootstrap(): void {
    this.nats?.onReconnect(() => void this.syncUntilDone());
    void this.syncUntilDone();
    this.interval = setInterval(() => void this.syncOnce(), RevocationSyncService.resyncIntervalMs);
    this.interval.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.interval) clearInterval(this.interval);
  }

  /** One snapshot request; resolves true when the map was loaded. */
  async syncOnce(): Promise<boolean> {
    try {
      const snap = await this.request();
      if (snap?.iss !== this.verifier.issuer || !Array.isArray(snap.entries))
        throw new Error('snapshot from another issuer');
      this.verifier.revocations.load(snap);
      return true;
    } catch (err) {
      this.logger.warn(`revocation snapshot unavailable: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  syncUntilDone(): Promise<void> {
    this.inFlight ??= (async () => {
      let delay = 200;
      while (!this.stopped && !(await this.syncOnce())) {
        await new Promise<void>((r) => (this.timer = setTimeout(r, delay)));
        delay = Math.min(delay * 2, 5000);
      }
    })().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async request(): Promise<RevocationSnapshot> {
    if (this.nats?.enabled) {
      const nc = await this.nats.connection();
      if (!nc) throw new Error('NATS unavailable');
      const msg = await nc.request(revocationSnapshotSubject(this.verifier.issuer), new TextEncoder().encode('{}'), {
        timeout: 3000,
      });
      return JSON.parse(new TextDecoder().decode(msg.data)) as RevocationSnapshot;
    }
    return firstValueFrom(
      this.client
        .send<RevocationSnapshot>(Subjects.revocationSnapshot, { iss: this.verifier.issuer })
        .pipe(timeout(3000)),
    );
  }
}
