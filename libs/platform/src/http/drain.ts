import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const POLL_MS = 25;

/**
 * The HTTP half of a graceful shutdown, bounded: stop accepting connections, let the requests in
 * flight finish for at most `drainMs`, then close every connection that is left (a slow upload,
 * an idle keep-alive socket, an SSE stream). A response that has started and not ended (an SSE
 * stream, which never ends by itself) does not hold the drain up.
 */
export class HttpDrain {
  closing = false;
  private readonly sockets = new Set<Socket>();
  private readonly responses = new Set<ServerResponse>();
  private draining?: Promise<void>;

  constructor(
    private readonly server: Server,
    private readonly drainMs: number,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (_req, res: ServerResponse) => {
      this.responses.add(res);
      res.once('close', () => this.responses.delete(res));
    });
  }

  /** Requests still being worked on: no answer yet, or an answer still being written out. */
  private pending(): number {
    let n = 0;
    for (const res of this.responses) if (!(res.headersSent && !res.writableEnded)) n++;
    return n;
  }

  drain(): Promise<void> {
    return (this.draining ??= this.run());
  }

  private async run(): Promise<void> {
    this.closing = true;
    // No new connections; Node also closes the idle keep-alive ones now.
    if (this.server.listening) this.server.close();
    const until = Date.now() + this.drainMs;
    while (this.pending() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, POLL_MS));
    this.server.closeAllConnections();
  }

  /** Whatever is still open when the app has closed (an upgraded socket nobody closed). */
  destroyRemaining(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

const drains = new WeakMap<object, HttpDrain>();

/**
 * Installs the drain on an app. Whoever shuts the app down calls `drainHttp(app)` before
 * `app.close()` (bootApp's signal handler and the all-in-one runner do), so requests in flight
 * finish while the app's modules (database, NATS) are still up. A plain `app.close()` drains too,
 * from Fastify's preClose, only later (after Nest's module hooks); either way nothing outlives
 * the bound, and preClose destroys whatever socket is still open (an upgraded one nobody closed).
 */
export function installDrain(app: NestFastifyApplication, drainMs: number): HttpDrain {
  const fastify = app.getHttpAdapter().getInstance();
  const drain = new HttpDrain(fastify.server, drainMs);
  drains.set(app, drain);
  fastify.addHook('onRequest', (_req, reply, done) => {
    if (!drain.closing) return done();
    void reply
      .code(503)
      .header('connection', 'close')
      .header('retry-after', '1')
      .send({ detail: 'the server is shutting down' });
  });
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    // Answers finished while draining end their connection, so no keep-alive socket outlives the drain.
    if (drain.closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('preClose', (done) => {
    void drain.drain().then(() => {
      drain.destroyRemaining();
      done();
    });
  });
  return drain;
}

/** Drains an app's HTTP server now (idempotent), e.g. to drain several apps of one process at once. */
export function drainHttp(app: unknown): Promise<void> {
  return drains.get(app as object)?.drain() ?? Promise.resolve();
}
