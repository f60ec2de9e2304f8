import { HttpException, HttpStatus, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { BOT_SECRET_HEADER, signRequest } from '@portcullis/auth';
import { REQUEST_ID_HEADER } from '@portcullis/platform';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { InterfaceProxyConfig } from '../config';

export interface UpstreamAnswer {
  status: number;
  body: unknown;
}

const PASS_THROUGH = new Set([400, 404, 409, 422, 429]);

/**
 * The server-side half of the browser-facing bot routes: calls bot-control with
 * the shared secret (or a signature made with it) attached here, so the
 * secret never reaches a browser.
 */
@Injectable()
export class BotControlClient implements OnApplicationShutdown {
  private readonly logger = new Logger(BotControlClient.name);
  private readonly pool: Pool;
  private readonly base: URL;

  constructor(private readonly cfg: InterfaceProxyConfig) {
    this.base = new URL(cfg.botControlBaseUrl);
    this.pool = new Pool(this.base.origin, { connections: 64, keepAliveTimeout: 30_000 });
  }

  private path(p: string): string {
    return `${this.base.pathname.replace(/\/$/, '')}${p}`;
  }

  private authHeaders(method: string, path: string, body: string): Record<string, string> {
    const secret = this.cfg.botControlSecret;
    if (!secret) return {};
    if (this.cfg.signRequests) return signRequest(secret, { method, pathWithQuery: path, body });
    return { [BOT_SECRET_HEADER]: secret };
  }

  async call(method: 'GET' | 'POST' | 'DELETE', p: string, payload: unknown, requestId?: string): Promise<UpstreamAnswer> {
    const path = this.path(p);
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const headers: Record<string, string> = { ...this.authHeaders(method, path, body) };
    if (body) headers['content-type'] = 'application/json';
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    let status: number;
    let text: string;
    try {
      const res = await this.pool.request({ method, path, headers, body: body || undefined, headersTimeout: this.cfg.botControlTimeoutMs, bodyTimeout: this.cfg.botControlTimeoutMs });
      status = res.statusCode;
      // Inside the try: the connection can also fail (or time out) while the body arrives.
      text = await res.body.text();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, path: p }, 'bot control unreachable');
      throw new HttpException({ detail: 'bot control server unavailable' }, HttpStatus.BAD_GATEWAY);
    }
    return this.map(status, text, p);
  }

  /** bot-control's answer as the browser should see it: its 4xx with a plain detail, anything else a 502. */
  private map(status: number, text: string, p: string): UpstreamAnswer {
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = undefined;
    }
    if (status >= 200 && status < 300 && body !== undefined) return { status, body };
    if (PASS_THROUGH.has(status)) {
      const detail = (body as { detail?: unknown } | undefined)?.detail;
      throw new HttpException({ detail: typeof detail === 'string' ? detail.slice(0, 300) : 'request rejected by bot control' }, status);
    }
    if (status === 401 || status === 403) {
      // Our own credentials were refused: a server misconfiguration, not the caller's fault.
      this.logger.error({ status, path: p }, 'bot control refused the proxy credentials; check BOT_CONTROL_SHARED_SECRET');
      throw new HttpException({ detail: 'bot control rejected the proxy' }, HttpStatus.BAD_GATEWAY);
    }
    this.logger.warn({ status, path: p }, 'bot control error');
    throw new HttpException({ detail: 'bot control server error' }, HttpStatus.BAD_GATEWAY);
  }

  /** Opens bot-control's event stream; the caller pipes it to the browser. */
  async events(requestId: string | undefined, signal: AbortSignal): Promise<Readable> {
    const path = this.path('/events');
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.authHeaders('GET', path, '') };
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    let res;
    try {
      res = await this.pool.request({ method: 'GET', path, headers, signal, headersTimeout: this.cfg.botControlTimeoutMs, bodyTimeout: 0 });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'bot control event stream unreachable');
      throw new HttpException({ detail: 'bot control server unavailable' }, HttpStatus.BAD_GATEWAY);
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      this.map(res.statusCode, '', '/events');
    }
    return res.body;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }
}
