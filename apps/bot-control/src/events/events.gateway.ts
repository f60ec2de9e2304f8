import { Logger } from '@nestjs/common';
import { OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { BotAuthService } from '../auth/bot-auth.service';
import { BotEventsService } from './bot-events.service';

/** A subscriber only listens: a frame bigger than this from it closes it with 1009. */
export const EVENTS_MAX_FRAME_BYTES = 64 * 1024;

/**
 * WS /ws/events: the same events as /events. The credential travels in a header, never the URL.
 * Socket and protocol errors are handled (and logged at debug) by EventsWsAdapter.
 */
@WebSocketGateway({ path: '/ws/events', maxPayload: EVENTS_MAX_FRAME_BYTES })
export class EventsGateway implements OnGatewayConnection {
  private readonly logger = new Logger(EventsGateway.name);

  constructor(private readonly events: BotEventsService, private readonly auth: BotAuthService) {}

  async handleConnection(client: WebSocket, req: IncomingMessage): Promise<void> {
    let decision: Awaited<ReturnType<BotAuthService['check']>>;
    try {
      decision = await this.auth.check('events', {
        method: 'GET',
        pathWithQuery: req.url ?? '/ws/events',
        headers: req.headers,
        route: '/ws/events',
        clientIp: req.socket.remoteAddress,
      });
    } catch (err) {
      // Nest does not await this method: a rejection here would be unhandled.
      this.logger.warn(`ws events authorization failed: ${err instanceof Error ? err.message : String(err)}`);
      client.close(1011, 'internal error');
      return;
    }
    if (!decision.allowed) {
      client.close(1008, 'unauthorized');
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
