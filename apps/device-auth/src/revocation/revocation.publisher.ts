import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { DeviceRevokedEvent, JwksUpdatedEvent, Subjects } from '@portcullis/contracts';
import { EVENTS_CLIENT } from '@portcullis/platform';
import { lastValueFrom } from 'rxjs';

/** The sending side of device-auth's NATS events (no secrets in any payload). */
@Injectable()
export class RevocationPublisher {
  private readonly logger = new Logger(RevocationPublisher.name);

  constructor(@Inject(EVENTS_CLIENT) private readonly client: ClientProxy) {}

  async deviceRevoked(e: DeviceRevokedEvent): Promise<void> {
    await this.emit(Subjects.deviceRevoked, e);
  }

  async jwksUpdated(e: JwksUpdatedEvent): Promise<void> {
    await this.emit(Subjects.jwksUpdated, e);
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
