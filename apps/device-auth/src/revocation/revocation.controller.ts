import { Controller, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Internal } from '@portcullis/auth';
import { DeviceRevokedEvent, revocationSnapshotSubject, RevocationSnapshot, Subjects } from '@portcullis/contracts';
import { NatsConnectionService } from '@portcullis/platform';
import type { NatsConnection } from 'nats';
import { DeviceAuthConfig } from '../config';
import { DevicesService } from '../devices/devices.service';
import { LocalRevocations } from './local-revocations';

/**
 * Answers snapshot requests on the in-process transport (all-in-one runner without NATS),
 * and keeps this replica's revocation floors up with the other replicas' revocations.
 * Control-plane subscriptions: @Internal(), reachable from inside the deployment only.
 */
@Internal()
@Controller()
export class RevocationController {
  constructor(
    private readonly devices: DevicesService,
    private readonly cfg: DeviceAuthConfig,
    private readonly local: LocalRevocations,
  ) {}

  @MessagePattern(Subjects.revocationSnapshot)
  snapshot(): Promise<RevocationSnapshot> {
    return this.devices.revocationSnapshot();
  }

  @EventPattern(Subjects.deviceRevoked)
  revoked(@Payload() e: DeviceRevokedEvent): void {
    if (e?.iss === this.cfg.issuer && typeof e.device_id === 'string')
      this.local.raise(e.device_id, Number(e.min_generation));
  }
}

/**
 * Answers verifiers that (re)start or reconnect over NATS, on this issuer's own
 * snapshot subject; replicas share a queue group so one of them answers.
 */
@Injectable()
export class RevocationSnapshotResponder implements OnApplicationBootstrap {
  private readonly logger = new Logger(RevocationSnapshotResponder.name);

  constructor(
    private readonly nats: NatsConnectionService,
    private readonly devices: DevicesService,
    private readonly cfg: DeviceAuthConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: device-auth starts (live, not ready) while NATS is still down, and answers once it is up.
    void this.nats.connection().then(
      (nc) => nc && this.respond(nc),
      () => undefined,
    );
  }

  private respond(nc: NatsConnection): void {
    const sub = nc.subscribe(revocationSnapshotSubject(this.cfg.issuer), { queue: 'device-auth' });
    void (async () => {
      for await (const msg of sub) {
        try {
          msg.respond(new TextEncoder().encode(JSON.stringify(await this.devices.revocationSnapshot())));
        } catch (err) {
          this.logger.error(`snapshot request failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })();
  }
}
