import { Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Nest's ws adapter, with a client's socket and protocol errors treated as what they are:
 * the end of that one connection. ws closes the socket with the matching code (1002 bad
 * frame, 1007 bad UTF-8, 1009 too big) and then emits 'error'; the stock adapter logs that
 * at error level with a stack, which lets any client write error lines at will. Here it is
 * one debug line, and the raw socket has an 'error' listener from the moment Node hands
 * it over (Node's HTTP server drops its own on upgrade), so a reset never goes unhandled.
 */
export class EventsWsAdapter extends WsAdapter {
  private readonly socketLogger = new Logger('EventsGateway');
  private readonly guarded = new WeakSet<Server>();

  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (ws: WebSocket) =>
      ws.on('error', (err: Error & { code?: string }) => this.clientError(err)),
    );
    server.on('error', (err: Error) => this.socketLogger.error(err));
    return server;
  }

  protected override ensureHttpServerExists(port: number, httpServer?: Server): Server | undefined {
    if (httpServer && !this.guarded.has(httpServer)) {
      this.guarded.add(httpServer);
      httpServer.prependListener('upgrade', (_req: unknown, socket: Duplex) =>
        socket.on('error', (err: Error & { code?: string }) => this.clientError(err)),
      );
    }
    return super.ensureHttpServerExists(port, httpServer);
  }

  private clientError(err: Error & { code?: string }): void {
    this.socketLogger.debug(
      `ws client connection closed on a socket or protocol error: ${err.code ?? 'error'} ${err.message}`,
    );
  }
}
