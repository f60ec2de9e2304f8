import { Controller, MessageEvent, Sse } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Observable, map } from 'rxjs';
import { BotAuth } from '../auth/bot-routes';
import { BotEventsService } from './bot-events.service';

@ApiTags('events')
@Controller()
export class EventsController {
  constructor(private readonly events: BotEventsService) {}

  @ApiOperation({ summary: 'Session lifecycle events (Server-Sent Events)' })
  @BotAuth('events')
  @Sse('events')
  stream(): Observable<MessageEvent> {
    return this.events.stream.pipe(map((e) => ({ type: e.type, data: e })));
  }
}
