import { Controller, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, EventPattern, Payload } from '@nestjs/microservices';
import { DeviceRevokedEvent, JwksUpdatedEvent, RevocationSnapshot, Subjects } from '@portcullis/contracts';
import { firstValueFrom, timeout } from 'rxjs';
import { Public } from '../common/public.decorator';
import { DeviceTokenVerifier } from './device-token.verifier';

/** The ClientProxy used to ask device-auth for a snapshot; the app's EVENTS_CLIENT. */
export const REVOCATION_CLIENT = Symbol('REVOCATION_CLIENT');
/** Something that calls back after the message transport reconnected (NatsConnectionService fits). */
export const RECONNECT_SOURCE = Symbol('RECONNECT_SOURCE');
export interface ReconnectSource {
  onReconnect(fn: () => void): void;
}

/** Feeds the verifier's revocation map from device-auth's events. */
@Public()
@Controller()
export class RevocationEventsController {
  constructor(private readonly verifier: DeviceTokenVerifier) {}

  @EventPattern(Subjects.deviceRevoked)
  revoked(@Payload() e: DeviceRevokedEvent): void {
    if (e && typeof e.device_id === 'string') this.verifier.revocations.raise(e.device_id, Number(e.min_generation));
  }

  @EventPattern(Subjects.jwksUpdated)
  async jwksUpdated(@Payload() _e: JwksUpdatedEvent): Promise<void> {
    await this.verifier.reloadKeys();
  }
}

/**
 * Pulls the full revocation snapshot from device-auth when the app starts
 * (retrying until device-auth answers) and again after every reconnect, so
 * events missed while disconnected are not missed for good.
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
    @Inject(RECONNECT_SOURCE) private readonly reconnects: ReconnectSource | null,
  ) {}

  onApplicationBootstrap(): void {
    this.reconnects?.onReconnect(() => void this.syncUntilDone());
    void this.syncUntilDone();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One snapshot request; resolves true when the map was loaded. */
  async syncOnce(): Promise<boolean> {
    try {
      const snap = await firstValueFrom(
        this.client.send<RevocationSnapshot>(Subjects.revocationSnapshot, {}).pipe(timeout(3000)),
      );
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
}
