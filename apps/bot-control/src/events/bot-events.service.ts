import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { BotSessionEvent } from '@portcullis/contracts';
import { Observable, Subject } from 'rxjs';
import { BotEventsPublisher } from './bot-events.publisher';

/** One stream of session lifecycle events, fanned out to SSE, WebSocket and NATS. */
@Injectable()
export class BotEventsService implements OnApplicationShutdown {
  private readonly subject = new Subject<BotSessionEvent>();

  constructor(private readonly publisher: BotEventsPublisher) {}

  get stream(): Observable<BotSessionEvent> {
    return this.subject.asObservable();
  }

  publish(e: Omit<BotSessionEvent, 'at'>): void {
    const event: BotSessionEvent = { ...e, at: new Date().toISOString() };
    this.subject.next(event);
    this.publisher.publish(event);
  }

  /** Completing the stream ends open SSE responses so shutdown can drain. */
  onApplicationShutdown(): void {
    this.subject.complete();
  }
}
