import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface FakeVapiRequest {
  method: string;
  path: string;
  authorization?: string;
  body: any;
}

/**
 * A stand-in for api.vapi.ai on 127.0.0.1 that behaves like the parts of the
 * real API device-auth uses: POST /call/web, GET /call/{id}, and the call's
 * monitor.controlUrl taking {"type":"end-call"}. It refuses any key but `apiKey`.
 */
export class FakeVapi {
  readonly requests: FakeVapiRequest[] = [];
  readonly calls = new Map<string, any>();
  /** Set to make every keyed request fail with this status. */
  failWith?: number;
  private server!: Server;
  url = '';

  constructor(private readonly apiKey: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const c of req) raw += c;
    const path = req.url ?? '/';
    const body = raw ? JSON.parse(raw) : undefined;
    this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const control = /^\/control\/([^/]+)$/.exec(path);
    if (control && req.method === 'POST') {
      // Vapi's control URL carries no key.
      const call = this.calls.get(control[1]);
      if (!call || body?.type !== 'end-call') return send(400, { message: 'bad control request' });
      call.status = 'ended';
      return send(200, {});
    }
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      // The real API echoes nothing useful; this one echoes the key it got, so a leak would show.
      return send(401, {
        message: `Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa. (${req.headers.authorization})`,
      });
    }
    if (this.failWith) return send(this.failWith, { message: 'failure' });
    if (path === '/call/web' && req.method === 'POST') {
      if (typeof body?.assistantId !== 'string') return send(400, { message: ['assistantId must be a string'] });
      const id = randomUUID();
      const call = {
        id,
        type: 'webCall',
        status: 'queued',
        assistantId: body.assistantId,
        assistantOverrides: body.assistantOverrides,
        webCallUrl: `https://example.daily.co/${id}`,
        monitor: { controlUrl: `${this.url}/control/${id}`, listenUrl: `ws://127.0.0.1/listen/${id}` },
        createdAt: new Date().toISOString(),
      };
      this.calls.set(id, call);
      return send(201, call);
    }
    const get = /^\/call\/([^/]+)$/.exec(path);
    if (get && req.method === 'GET') {
      const call = this.calls.get(decodeURIComponent(get[1]));
      return call ? send(200, call) : send(404, { message: 'Not Found' });
    }
    send(404, { message: 'Not Found' });
  }
}
