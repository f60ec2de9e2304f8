import { Logger } from '@nestjs/common';
import { OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import { AuthGuard, AuthRejected } from '@portcullis/auth';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { BotAuth } from '../auth/bot-routes';
import { BotEventsService } from './bot-events.service';

/** A subscriber only listens: a frame bigger than this from it closes it with 1009. */
const EVENTS_MAX_FRAME_BYTES = 64 * 1024;

/**
 * WS /ws/events: the same events as /events, behind the same guard (Nest runs no guard on
 * a gateway's connection, so the connection asks AuthGuard itself). The credential travels
 * in a header, never the URL. Socket and protocol errors are handled by EventsWsAdapter.
 */
@BotAuth('events')
@WebSocketGateway({ path: '/ws/events', maxPayload: EVENTS_MAX_FRAME_BYTES })
export class EventsGateway implements OnGatewayConnection {
  private readonly logger = new Logger(EventsGateway.name);

  constructor(
    private readonly events: BotEventsService,
    private readonly auth: AuthGuard,
  ) {}

  async handleConnection(client: WebSocket, req: IncomingMessage): Promise<void> {
    try {
      await this.auth.authorizeUpgrade(EventsGateway, req, '/ws/events');
    } catch (err) {
      // Nest does not await this method: a rejection here would be unhandled.
      const refused = err instanceof AuthRejected;
      if (!refused)
        this.logger.warn(`ws events authorization failed: ${err instanceof Error ? err.message : String(err)}`);
      client.close(refused ? 1008 : 1011, refused ? 'unauthorized' : 'internal error');
      return;
    }
    // Closed (a protocol error, a reset) while the credential was checked: 'close' has
    // already fired, so a subscription made now would never be undone.
    if (client.readyState !== client.OPEN) return;
    const sub = this.events.stream.subscribe({
      next: (e) => client.send(JSON.stringify(e)),
      complete: () => client.close(1001, 'server shutting down'),
    });
    client.on('close', () => sub.unsubscribe());
  }
}
