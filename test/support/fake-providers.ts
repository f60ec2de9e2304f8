import { jwtVerify, decodeProtectedHeader } from 'jose';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** A request as the fake provider received it. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** LiveKit only: the verified token's header and claims. */
  token?: { header: Record<string, unknown>; claims: Record<string, any> };
}

export interface Forced {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Close the socket without answering. */
  hangUp?: boolean;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** Shared plumbing: a local HTTP server on 127.0.0.1 that records what it receives. */
abstract class FakeProvider {
  readonly received: Received[] = [];
  readonly rooms = new Map<string, any>();
  private server?: Server;
  private forced: Forced[] = [];
  url = '';

  /** The next answers are these, whatever the request. */
  force(...answers: Forced[]): void {
    this.forced.push(...answers);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  reset(): void {
    this.received.length = 0;
    this.forced = [];
    this.rooms.clear();
  }

  protected abstract route(r: Received): Promise<Forced> | Forced;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const r: Received = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    this.received.push(r);
    const forced = this.forced.shift();
    if (forced?.hangUp) {
      req.socket.destroy();
      return;
    }
    if (forced?.delayMs) await new Promise((ok) => setTimeout(ok, forced.delayMs));
    if (res.destroyed) return;
    const answer = forced ?? (await this.route(r));
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }
}

/** Daily's REST API as far as rooms go: POST /rooms, GET and DELETE /rooms/:name, under /v1. */
export class FakeDaily extends FakeProvider {
  constructor(readonly keys: string[]) {
    super();
  }

  get baseUrl(): string {
    return `${this.url}/v1`;
  }

  protected route(r: Received): Forced {
    if (!this.keys.some((k) => r.headers.authorization === `Bearer ${k}`)) {
      return { status: 401, body: { error: 'authentication-error', info: 'Unauthorized' } };
    }
    const m = /^\/v1\/rooms(?:\/([^/?]+))?$/.exec(r.path);
    if (!m) return { status: 404, body: { error: 'not-found', info: 'no such endpoint' } };
    const name = m[1] ? decodeURIComponent(m[1]) : undefined;
    if (r.method === 'POST' && !name) {
      const roomName = r.body?.name ?? `auto${this.rooms.size + 1}`;
      if (this.rooms.has(roomName))
        return {
          status: 400,
          body: { error: 'invalid-request-error', info: `a room named ${roomName} already exists` },
        };
      const room = {
        id: `id-${roomName}`,
        name: roomName,
        api_created: true,
        privacy: r.body?.privacy ?? 'public',
        url: `https://example.daily.co/${roomName}`,
        created_at: '2026-01-01T00:00:00.000Z',
        config: r.body?.properties ?? {},
      };
      this.rooms.set(roomName, room);
      return { status: 200, body: room };
    }
    if (!name || !this.rooms.has(name))
      return { status: 404, body: { error: 'not-found', info: `room ${name} not found` } };
    if (r.method === 'GET') return { status: 200, body: this.rooms.get(name) };
    if (r.method === 'DELETE') {
      this.rooms.delete(name);
      return { status: 200, body: { deleted: true, name } };
    }
    return { status: 405, body: { error: 'method-not-allowed' } };
  }
}

const GRANT_FOR: Record<string, string> = { CreateRoom: 'roomCreate', ListRooms: 'roomList', DeleteRoom: 'roomCreate' };

/** LiveKit's RoomService over Twirp, verifying each service token like the server does. */
export class FakeLiveKit extends FakeProvider {
  constructor(readonly keys: Record<string, string>) {
    super();
  }

  protected async route(r: Received): Promise<Forced> {
    const m = /^\/twirp\/livekit\.RoomService\/(\w+)$/.exec(r.path);
    if (r.method !== 'POST' || !m) return { status: 404, body: { code: 'bad_route', msg: 'no such method' } };
    const method = m[1];
    const auth = String(r.headers.authorization ?? '');
    if (!auth.startsWith('Bearer '))
      return { status: 401, body: { code: 'unauthenticated', msg: 'no authorization header' } };
    const jwt = auth.slice(7);
    try {
      const header = decodeProtectedHeader(jwt) as Record<string, unknown>;
      const iss = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).iss as string;
      const secret = this.keys[iss];
      if (!secret) throw new Error('unknown api key');
      const { payload } = await jwtVerify(jwt, new TextEncoder().encode(secret), {
        algorithms: ['HS256'],
        issuer: iss,
      });
      r.token = { header, claims: payload as Record<string, any> };
    } catch {
      return { status: 401, body: { code: 'unauthenticated', msg: 'invalid token' } };
    }
    if (!r.token.claims.video?.[GRANT_FOR[method]])
      return { status: 403, body: { code: 'permission_denied', msg: 'permissions denied' } };
    switch (method) {
      case 'CreateRoom': {
        const room = {
          sid: `RM_${r.body.name}`,
          name: r.body.name,
          emptyTimeout: 300,
          maxParticipants: r.body.maxParticipants ?? 0,
          creationTime: '1767225600',
          metadata: r.body.metadata ?? '',
        };
        this.rooms.set(room.name, room);
        return { status: 200, body: room };
      }
      case 'ListRooms': {
        const names: string[] = r.body?.names ?? [];
        return {
          status: 200,
          body: { rooms: [...this.rooms.values()].filter((x) => !names.length || names.includes(x.name)) },
        };
      }
      case 'DeleteRoom':
        if (!this.rooms.delete(r.body.room))
          return { status: 404, body: { code: 'not_found', msg: 'requested room does not exist' } };
        return { status: 200, body: {} };
      default:
        return { status: 404, body: { code: 'bad_route', msg: 'no such method' } };
    }
  }
}
