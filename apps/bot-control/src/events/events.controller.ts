import { Controller, MessageEvent, Sse } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Observable, map } from 'rxjs';
import { BotRoute } from '../auth/bot-route.decorator';
import { BotEventsService } from './bot-events.service';

@ApiTags('events')
@Controller()
export class EventsController {
  constructor(private readonly events: BotEventsService) {}

  @ApiOperation({ summary: 'Session lifecycle events (Server-Sent Events)' })
  @BotRoute('events')
  @Sse('events')
  stream(): Observable<MessageEvent> {
    return this.events.stream.pipe(map((e) => ({ type: e.type, data: e })));
  }
}
