import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ADMIN_KEY_HEADER, adminUnauthorizedBody } from '@portcullis/auth';
import { WebSocket, WebSocketServer } from 'ws';
import type { ReloadingAdminKeySource } from './admin-key.source';

export interface ControlStatus {
  pid: number;
  config_file: string;
  started_at: string;
  ready: boolean;
  key_fingerprint: string;
  previous_key?: { fingerprint: string; valid_until: string };
  apps: Array<{ name: string; url: string }>;
  not_started: Array<{ name: string; reason: string }>;
}

/** A runner event pushed to /daemon/events subscribers; fingerprints only, never a key. */
export type DaemonEvent = { type: string; at?: string } & Record<string, unknown>;

export interface ControlOptions {
  /** [daemon] websocket_enabled: serve /daemon/events. */
  websocket: boolean;
  /** [daemon] websocket_heartbeat_interval, in ms: ping each subscriber, drop the silent ones. */
  heartbeatMs: number;
  /** Where a subscriber's socket or protocol error is reported (it only ends that one connection). */
  onSocketError?: (err: Error & { code?: string }) => void;
}

/** Subscribers only listen: a frame bigger than this from one of them closes it with 1009. */
const EVENTS_MAX_FRAME_BYTES = 64 * 1024;

/**
 * The daemon's own small HTTP endpoint ([daemon] ipc_host/ipc_port):
 *   GET /health            open: the daemon answers
 *   GET /daemon/status     X-Portcullis-API-Key: apps, config file, key fingerprint
 *   WS  /daemon/events     X-Portcullis-API-Key: key changes, config errors, stop (when websocket_enabled)
 * `portcullis status` uses /daemon/status to prove its key is the daemon's.
 */
export class ControlServer {
  private server?: Server;
  private wss?: WebSocketServer;
  private heartbeat?: NodeJS.Timeout;
  private readonly alive = new WeakMap<WebSocket, boolean>();

  constructor(
    private readonly keys: ReloadingAdminKeySource,
    private readonly status: () => ControlStatus,
    private readonly opts: ControlOptions = { websocket: false, heartbeatMs: 30000 },
  ) {}

  /** Sends an event to every subscriber. */
  publish(event: DaemonEvent): void {
    const text = JSON.stringify({ at: new Date().toISOString(), ...event });
    for (const c of this.wss?.clients ?? []) if (c.readyState === WebSocket.OPEN) c.send(text);
  }

  async listen(host: string, port: number): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    if (this.opts.websocket) {
      const wss = new WebSocketServer({ noServer: true, maxPayload: EVENTS_MAX_FRAME_BYTES });
      this.wss = wss;
      server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
        this.upgrade(wss, req, socket, head),
      );
      this.heartbeat = setInterval(() => {
        for (const c of wss.clients) {
          if (this.alive.get(c) === false) {
            c.terminate();
            continue;
          }
          this.alive.set(c, false);
          c.ping();
        }
      }, this.opts.heartbeatMs);
      this.heartbeat.unref();
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return `http://${shown}:${addr.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.wss?.clients ?? []) c.close(1001, 'daemon stopping');
    this.wss?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health')
      return send(res, 200, { status: 'ok', pid: process.pid, ready: this.status().ready });
    if (req.method === 'GET' && path === '/daemon/status') {
      const raw = req.headers[ADMIN_KEY_HEADER];
      if (!this.keys.accepts(Array.isArray(raw) ? raw[0] : raw))
        return send(res, 401, adminUnauthorizedBody(this.keys));
      return send(res, 200, this.status());
    }
    send(res, 404, { detail: 'not found' });
  }

  private upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Socket, head: Buffer): void {
    // The HTTP server no longer listens for this socket's errors once it is handed over
    // here; a reset while the refusal below is written must not end the daemon.
    socket.on('error', (err) => this.socketError(err));
    if ((req.url ?? '').split('?')[0] !== '/daemon/events') return refuse(socket, 404, { detail: 'not found' });
    const raw = req.headers[ADMIN_KEY_HEADER];
    if (!this.keys.accepts(Array.isArray(raw) ? raw[0] : raw))
      return refuse(socket, 401, adminUnauthorizedBody(this.keys));
    wss.handleUpgrade(req, socket, head, (ws) => {
      // A protocol error (bad opcode, unmasked or oversized frame, invalid UTF-8) makes ws
      // close this socket with the matching code and then emit 'error': handled, not fatal.
      ws.on('error', (err) => this.socketError(err));
      this.alive.set(ws, true);
      ws.on('pong', () => this.alive.set(ws, true));
      ws.send(JSON.stringify({ type: 'hello', at: new Date().toISOString(), ...this.status() }));
    });
  }

  private socketError(err: Error & { code?: string }): void {
    this.opts.onSocketError?.(err);
  }
}

function refuse(socket: Socket, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
