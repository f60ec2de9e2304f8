import { Controller, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Public } from '@portcullis/auth';
import { revocationSnapshotSubject, RevocationSnapshot, Subjects } from '@portcullis/contracts';
import { NatsConnectionService } from '@portcullis/platform';
import type { NatsConnection } from 'nats';
import { DeviceAuthConfig } from '../config';
import { DevicesService } from '../devices/devices.service';

/** Answers snapshot requests on the in-process transport (all-in-one runner without NATS). */
@Public()
@Controller()
export class RevocationController {
  constructor(private readonly devices: DevicesService) {}

  @MessagePattern(Subjects.revocationSnapshot)
  snapshot(): Promise<RevocationSnapshot> {
    return this.devices.revocationSnapshot();
  }
}

/**
 * Answers verifiers that (re)start or reconnect over NATS, on this issuer's own
 * snapshot subject; replicas share a queue group so one of them answers.
 */
@Injectable()
export class RevocationSnapshotResponder implements OnApplicationBootstrap {
  private readonly logger = new Logger(RevocationSnapshotResponder.name);

  constructor(private readonly nats: NatsConnectionService, private readonly devices: DevicesService, private readonly cfg: DeviceAuthConfig) {}

  onApplicationBootstrap(): void {
    // Not awaited: device-auth starts (live, not ready) while NATS is still down, and answers once it is up.
    void this.nats.connection().then((nc) => nc && this.respond(nc), () => undefined);
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
