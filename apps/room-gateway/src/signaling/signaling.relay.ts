import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { Auth, AuthGuard, AuthRejected, DecisionSite, DeviceTokenVerifier, VerifiedDevice } from '@portcullis/auth';
import { SignalingClose, SignalingPeer, SignalingRole, SignalingServerFrame } from '@portcullis/contracts';
import { isDependencyOutage, MetricsService } from '@portcullis/platform';
import { Counter, Gauge } from 'prom-client';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { DataSource } from 'typeorm';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { RoomMembership } from '../database/room-membership.entity';

const WS_PATH = /^\/signaling\/rooms\/([^/]+)\/ws$/;
const WS_ROUTE = '/signaling/rooms/:room_id/ws';
const SITE: DecisionSite = { transport: 'ws', method: 'GET', route: WS_ROUTE };
/** How long a socket opened without an Authorization header may take to send its `auth` frame. */
const FIRST_MESSAGE_AUTH_MS = 5000;
const MAX_FRAME_BYTES = 64 * 1024;
const SWEEP_MS = 1000;

interface Conn {
  ws: WebSocket;
  roomId: string;
  device: VerifiedDevice;
  role: SignalingRole;
}

type CloseWhy = 'removed' | 'revoked' | 'expired' | 'replaced';
const CLOSE: Record<CloseWhy, [number, string]> = {
  removed: [SignalingClose.removed, 'removed from room'],
  revoked: [SignalingClose.revoked, 'device revoked'],
  expired: [SignalingClose.unauthorized, 'device token expired'],
  replaced: [SignalingClose.replaced, 'replaced by a newer connection'],
};

/**
 * `WS /signaling/rooms/:room_id/ws`: authenticates the device (Authorization header on the
 * upgrade, or an `auth` first message; never the URL), admits members only, and relays opaque
 * `data` between members of the same room. A removed member or revoked device is cut off at once.
 * Raw upgrades never pass Nest's guard chain, so the relay asks the app's AuthGuard itself (the
 * same device-token strategy, decision counter and audit as every route).
 */
@Auth('device-token')
@Injectable()
export class SignalingRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SignalingRelay');
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly rooms = new Map<string, Map<string, Conn>>();
  private sweeper?: NodeJS.Timeout;
  private readonly relayed: Counter<'app'>;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly verifier: DeviceTokenVerifier,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly auth: AuthGuard,
    private readonly metrics: MetricsService,
  ) {
    const rooms = this.rooms;
    new Gauge({
      name: 'portcullis_signaling_connections',
      help: 'Open relay sockets',
      labelNames: ['app'],
      registers: [metrics.registry],
      collect() {
        let n = 0;
        for (const r of rooms.values()) n += r.size;
        this.set({ app: metrics.app }, n);
      },
    });
    this.relayed = new Counter({
      name: 'portcullis_signaling_frames_relayed_total',
      help: 'Peer frames relayed (contents never read)',
      labelNames: ['app'],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node's HTTP server drops its own 'error' listener from an upgraded socket, and
      // authentication below is asynchronous: a client that resets the connection in the
      // meantime must not become an unhandled 'error' event (which ends the process).
      socket.on('error', (err) => this.logger.debug(`upgrade socket error: ${err.message}`));
      this.onUpgrade(req, socket, head).catch((err: unknown) => {
        const outage = isDependencyOutage(err);
        this.logger.warn(`upgrade failed: ${err instanceof Error ? err.message : String(err)}`);
        refuse(socket, outage ? 503 : 500);
      });
    });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const room of this.rooms.values()) for (const c of room.values()) c.ws.close(1001, 'server shutting down');
    this.wss.close();
  }

  /** Device ids with an open socket in the room. */
  connected(roomId: string): Set<string> {
    return new Set(this.rooms.get(roomId)?.keys() ?? []);
  }

  disconnect(roomId: string, deviceId: string, why: CloseWhy): void {
    const c = this.rooms.get(roomId)?.get(deviceId);
    if (c) this.drop(c, why);
  }

  /** Closes every socket whose device was revoked (or whose token expired). Run on each revocation event and every second. */
  sweep(): void {
    const now = Math.floor(Date.now() / 1000);
    for (const room of this.rooms.values()) {
      for (const c of room.values()) {
        if (this.verifier.revocations.isRevoked(c.device.deviceId, c.device.generation)) this.drop(c, 'revoked');
        else if (c.device.expiresAt <= now) this.drop(c, 'expired');
      }
    }
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://relay');
    const m = WS_PATH.exec(url.pathname);
    if (!m) return refuse(socket, 404);
    // Credentials never travel in the URL (proxies and logs keep URLs): refuse any query at all.
    if (url.search) return refuse(socket, 400);
    const roomId = decodePathSegment(m[1]);
    if (roomId === undefined) return refuse(socket, 400);
    if (req.headers.authorization === undefined) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.awaitAuthFrame(this.watch(ws), roomId, req));
      return;
    }
    let device: VerifiedDevice | undefined;
    try {
      device = await this.auth.authorizeUpgrade<VerifiedDevice>(SignalingRelay, req, WS_ROUTE);
    } catch (err) {
      if (err instanceof AuthRejected) return refuse(socket, 401);
      throw err;
    }
    if (!device) return refuse(socket, 401);
    const role = await this.roleOf(roomId, device, req);
    if (!role) return refuse(socket, 403);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.admit(this.watch(ws), roomId, device, role));
  }

  /**
   * A protocol error (bad opcode, unmasked or oversized frame, invalid UTF-8) makes ws
   * close the socket with the matching code (1002, 1009, 1007) and then emit 'error';
   * from the moment a socket exists that event has a listener, or it would end the process.
   */
  private watch(ws: WebSocket): WebSocket {
    ws.on('error', (err: Error & { code?: string }) =>
      this.logger.debug(`relay socket closed on a protocol error: ${err.code ?? 'error'} ${err.message}`),
    );
    return ws;
  }

  private awaitAuthFrame(ws: WebSocket, roomId: string, req: IncomingMessage): void {
    const timer = setTimeout(
      () => ws.close(SignalingClose.unauthorized, 'unauthorized'),
      FIRST_MESSAGE_AUTH_MS,
    ).unref();
    ws.once('message', (raw: RawData) => {
      clearTimeout(timer);
      void (async () => {
        const frame = parse(raw) as { type?: unknown; token?: unknown } | undefined;
        const token = frame?.type === 'auth' && typeof frame.token === 'string' ? frame.token : undefined;
        // The token from the frame goes through the guard as the header it stands in for.
        const device = await this.auth
          .authorizeUpgrade<VerifiedDevice>(SignalingRelay, req, WS_ROUTE, {
            ...req.headers,
            authorization: token === undefined ? undefined : `Bearer ${token}`,
          })
          .catch((err: unknown) => {
            if (err instanceof AuthRejected) return undefined;
            throw err;
          });
        if (!device) return ws.close(SignalingClose.unauthorized, 'unauthorized');
        const role = await this.roleOf(roomId, device, req);
        if (!role) return ws.close(SignalingClose.notMember, 'not a member of this room');
        if (ws.readyState === WebSocket.OPEN) this.admit(ws, roomId, device, role);
      })().catch(() => ws.close(1011, 'internal error'));
    });
  }

  private admit(ws: WebSocket, roomId: string, device: VerifiedDevice, role: SignalingRole): void {
    let room = this.rooms.get(roomId);
    if (!room) this.rooms.set(roomId, (room = new Map()));
    const old = room.get(device.deviceId);
    if (old) this.drop(old, 'replaced');
    const conn: Conn = { ws, roomId, device, role };
    const peers: SignalingPeer[] = [...room.values()].map((c) => ({ peer_id: c.device.deviceId, role: c.role }));
    room.set(device.deviceId, conn);
    send(ws, { type: 'welcome', room_id: roomId, peer_id: device.deviceId, role, peers });
    this.broadcast(conn, { type: 'peer_joined', peer: { peer_id: device.deviceId, role } });
    ws.on('message', (raw: RawData) =>
      this.onFrame(conn, raw).catch((err: unknown) => {
        this.logger.warn(`relay frame failed: ${err instanceof Error ? err.message : String(err)}`);
        conn.ws.close(1011, 'internal error');
      }),
    );
    ws.on('close', () => this.forget(conn));
  }

  private async onFrame(conn: Conn, raw: RawData): Promise<void> {
    if (this.rooms.get(conn.roomId)?.get(conn.device.deviceId) !== conn) return;
    const frame = parse(raw) as { type?: unknown; to?: unknown; data?: unknown; token?: unknown } | undefined;
    if (frame?.type === 'auth') return this.reauthenticate(conn, frame.token);
    if (this.verifier.revocations.isRevoked(conn.device.deviceId, conn.device.generation))
      return this.drop(conn, 'revoked');
    if (conn.device.expiresAt <= Math.floor(Date.now() / 1000)) return this.drop(conn, 'expired');
    if (frame?.type !== 'signal' || !('data' in frame) || (frame.to !== undefined && typeof frame.to !== 'string')) {
      send(conn.ws, { type: 'error', detail: 'expected {"type":"signal","to"?:peer_id,"data":...}' });
      return;
    }
    const out: SignalingServerFrame = { type: 'signal', from: conn.device.deviceId, role: conn.role, data: frame.data };
    this.relayed.inc({ app: this.metrics.app });
    if (frame.to === undefined) return this.broadcast(conn, out);
    const target = this.rooms.get(conn.roomId)?.get(frame.to);
    if (!target) send(conn.ws, { type: 'error', detail: 'peer not connected to this room' });
    else send(target.ws, out);
  }

  /** A fresh device token on an open socket (before the old one expires); it must name the same device. */
  private async reauthenticate(conn: Conn, token: unknown): Promise<void> {
    const device = typeof token === 'string' ? await this.verifier.verify(token).catch(() => undefined) : undefined;
    if (!device || device.deviceId !== conn.device.deviceId) return this.drop(conn, 'expired');
    conn.device = device;
  }

  private drop(conn: Conn, why: CloseWhy): void {
    this.forget(conn);
    const [code, reason] = CLOSE[why];
    // The end of an admitted connection is on record, as the guard records its start.
    this.auth.record(SITE, why === 'replaced' ? 'allow' : 'deny', why, conn.device.deviceId, true);
    conn.ws.close(code, reason);
    // A peer that ignores the close handshake is cut off anyway.
    setTimeout(() => conn.ws.terminate(), 1000).unref();
  }

  private forget(conn: Conn): void {
    const room = this.rooms.get(conn.roomId);
    if (room?.get(conn.device.deviceId) !== conn) return;
    room.delete(conn.device.deviceId);
    if (room.size === 0) this.rooms.delete(conn.roomId);
    this.broadcast(conn, { type: 'peer_left', peer_id: conn.device.deviceId });
  }

  private broadcast(from: Conn, frame: SignalingServerFrame): void {
    const room = this.rooms.get(from.roomId);
    if (!room) return;
    const text = JSON.stringify(frame);
    for (const c of room.values()) if (c !== from && c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
  }

  private async roleOf(
    roomId: string,
    device: VerifiedDevice,
    req: IncomingMessage,
  ): Promise<SignalingRole | undefined> {
    const m = /^rm_[0-9a-f]{32}$/.test(roomId)
      ? await this.ds.getRepository(RoomMembership).findOneBy({ roomId, deviceId: device.deviceId })
      : null;
    if (!m) this.auth.record({ ...SITE, clientIp: req.socket.remoteAddress }, 'deny', 'not_member', device.deviceId);
    return m?.role;
  }
}

function parse(raw: RawData): unknown {
  try {
    return JSON.parse(raw.toString());
  } catch {
    return undefined;
  }
}

function send(ws: WebSocket, frame: SignalingServerFrame): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

/** The room id as sent, or undefined for a malformed %-escape (which no room id can contain). */
function decodePathSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function refuse(socket: Duplex, status: number): void {
  const text =
    {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      500: 'Internal Server Error',
      503: 'Service Unavailable',
    }[status] ?? 'Error';
  const retry = status === 503 ? 'Retry-After: 1\r\n' : '';
  if (!socket.writable) return void socket.destroy();
  // As ws refuses a handshake: flush the answer, then close (the client need not hang up first).
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${retry}Content-Length: 0\r\n\r\n`);
}
