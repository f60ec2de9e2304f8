import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { DeviceRevokedEvent, JwksUpdatedEvent, Subjects } from '@portcullis/contracts';
import { EVENTS_CLIENT } from '@portcullis/platform';
import { lastValueFrom } from 'rxjs';
import { DeviceAuthConfig } from '../config';

/** The sending side of device-auth's NATS events (no secrets in any payload). */
@Injectable()
export class RevocationPublisher {
  private readonly logger = new Logger(RevocationPublisher.name);

  constructor(
    @Inject(EVENTS_CLIENT) private readonly client: ClientProxy,
    private readonly cfg: DeviceAuthConfig,
  ) {}

  async deviceRevoked(e: Omit<DeviceRevokedEvent, 'iss'>): Promise<void> {
    await this.emit(Subjects.deviceRevoked, { iss: this.cfg.issuer, ...e } satisfies DeviceRevokedEvent);
  }

  async jwksUpdated(e: Omit<JwksUpdatedEvent, 'iss'>): Promise<void> {
    await this.emit(Subjects.jwksUpdated, { iss: this.cfg.issuer, ...e } satisfies JwksUpdatedEvent);
  }

  private async emit(subject: string, payload: object): Promise<void> {
    try {
      await lastValueFrom(this.client.emit(subject, payload), { defaultValue: undefined });
    } catch (err) {
      // Verifiers re-sync from the snapshot after reconnecting; the database stays the truth.
      this.logger.error(`publish on ${subject} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
