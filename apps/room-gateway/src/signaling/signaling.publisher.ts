import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { SignalingMemberRemovedEvent, SignalingSubjects } from '@portcullis/contracts';
import { EVENTS_CLIENT } from '@portcullis/platform';
import { lastValueFrom } from 'rxjs';

/** Tells every room-gateway replica (this one included) about a removal, so sockets held elsewhere close too. */
@Injectable()
export class SignalingPublisher {
  private readonly logger = new Logger('SignalingPublisher');

  constructor(@Inject(EVENTS_CLIENT) private readonly client: ClientProxy) {}

  async memberRemoved(roomId: string, deviceId: string): Promise<void> {
    const e: SignalingMemberRemovedEvent = {
      room_id: roomId,
      device_id: deviceId,
      removed_at: new Date().toISOString(),
    };
    try {
      await lastValueFrom(this.client.emit(SignalingSubjects.memberRemoved, e), { defaultValue: undefined });
    } catch (err) {
      // This replica has already closed its sockets; others re-check membership on their next connect.
      this.logger.warn(`member-removed event not published: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
