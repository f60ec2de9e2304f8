import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { BOT_EVENT_SUBJECTS, BotSessionEvent } from '@portcullis/contracts';
import { EVENTS_CLIENT } from '@portcullis/platform';

/** The sending side of bot lifecycle events on NATS (or the in-process bus). */
@Injectable()
export class BotEventsPublisher {
  private readonly logger = new Logger(BotEventsPublisher.name);

  constructor(@Inject(EVENTS_CLIENT) private readonly client: ClientProxy) {}

  publish(event: BotSessionEvent): void {
    this.client.emit(BOT_EVENT_SUBJECTS[event.type], event).subscribe({
      error: (err: unknown) => this.logger.warn(`could not publish ${event.type} event: ${String(err)}`),
    });
  }
}
