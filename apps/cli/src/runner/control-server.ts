import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_KEY_HEADER, adminUnauthorizedBody } from '@portcullis/auth';
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

/**
 * The daemon's own small HTTP endpoint ([daemon] ipc_host/ipc_port):
 *   GET /health          open: the daemon answers
 *   GET /daemon/status   X-Portcullis-API-Key: apps, config file, key fingerprint
 * `portcullis status` uses the second one to prove its key is the daemon's.
 */
export class ControlServer {
  private server?: Server;

  constructor(
    private readonly keys: ReloadingAdminKeySource,
    private readonly status: () => ControlStatus,
  ) {}

  async listen(host: string, port: number): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
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
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok', pid: process.pid, ready: this.status().ready });
    if (req.method === 'GET' && path === '/daemon/status') {
      const raw = req.headers[ADMIN_KEY_HEADER];
      if (!this.keys.accepts(Array.isArray(raw) ? raw[0] : raw)) return send(res, 401, adminUnauthorizedBody(this.keys));
      return send(res, 200, this.status());
    }
    send(res, 404, { detail: 'not found' });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
