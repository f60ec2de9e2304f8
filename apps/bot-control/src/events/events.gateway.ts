import { Logger } from '@nestjs/common';
import { OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { BotAuthService } from '../auth/bot-auth.service';
import { BotEventsService } from './bot-events.service';

/** WS /ws/events: the same events as /events. The credential travels in a header, never the URL. */
@WebSocketGateway({ path: '/ws/events' })
export class EventsGateway implements OnGatewayConnection {
  private readonly logger = new Logger(EventsGateway.name);

  constructor(private readonly events: BotEventsService, private readonly auth: BotAuthService) {}

  async handleConnection(client: WebSocket, req: IncomingMessage): Promise<void> {
    const decision = await this.auth.check('events', {
      method: 'GET',
      pathWithQuery: req.url ?? '/ws/events',
      headers: req.headers,
      route: '/ws/events',
      clientIp: req.socket.remoteAddress,
    });
    if (!decision.allowed) {
      client.close(1008, 'unauthorized');
      return;
    }
    const sub = this.events.stream.subscribe({
      next: (e) => client.send(JSON.stringify(e)),
      complete: () => client.close(1001, 'server shutting down'),
    });
    client.on('close', () => sub.unsubscribe());
    client.on('error', (err) => this.logger.debug(`ws client error: ${err.message}`));
  }
}
