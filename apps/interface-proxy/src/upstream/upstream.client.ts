import { HttpException, HttpStatus, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ADMIN_KEY_HEADER, AdminKeySource, BOT_SECRET_HEADER, signRequest } from '@portcullis/auth';
import { REQUEST_ID_HEADER } from '@portcullis/platform';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { InterfaceProxyConfig } from '../config';

type Method = 'GET' | 'POST' | 'DELETE';

/** The caller's 4xx answers that are passed on as they are (with the upstream's detail). */
const PASS_THROUGH = new Set([400, 404, 409, 422, 429]);

/** What the browser is told when the upstream fails; each upstream words it for its operator. */
interface UpstreamMessages {
  unavailable: string;
  /** The upstream refused this server's own credentials (401/403): a misconfiguration. */
  refusedUs: string;
  /** Logged with the above, naming the setting to check. */
  refusedUsHint: string;
  failed: (status: number) => string;
  rejected: string;
}

export interface UpstreamOptions {
  /** For logs. */
  name: string;
  baseUrl: string;
  /** Bounds the wait for response headers and each gap in the body. */
  timeoutMs: number;
  connections: number;
  /** The server's own credentials for one request (pathWithQuery includes the base path). */
  credentials: (method: Method, pathWithQuery: string, body: string) => Record<string, string>;
  messages: UpstreamMessages;
}

/**
 * A pooled HTTP client to one of the suite's services (bot-control,
 * device-auth's and room-gateway's admin APIs) that attaches this server's
 * own credentials, so no secret reaches a browser. Every upstream failure is
 * mapped the same way: its 4xx passed on with a plain `{detail}`, no answer
 * or a timeout is 502, our credentials refused is 502 (and logged as a
 * misconfiguration), anything else is 502.
 */
export class UpstreamClient implements OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly pool: Pool;
  private readonly prefix: string;

  constructor(private readonly opts: UpstreamOptions) {
    const base = new URL(opts.baseUrl);
    this.prefix = base.pathname.replace(/\/$/, '');
    this.pool = new Pool(base.origin, { connections: opts.connections, keepAliveTimeout: 30_000 });
    this.logger = new Logger(`Upstream(${opts.name})`);
  }

  private headers(
    method: Method,
    path: string,
    body: string,
    requestId: string | undefined,
    accept: string,
  ): Record<string, string> {
    const headers: Record<string, string> = { accept, ...this.opts.credentials(method, path, body) };
    if (body) headers['content-type'] = 'application/json';
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    return headers;
  }

  /** One JSON request; resolves to the upstream's 2xx body, or throws the mapped HttpException. */
  async call<T = unknown>(method: Method, p: string, payload?: unknown, requestId?: string): Promise<T> {
    const path = `${this.prefix}${p}`;
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const headers = this.headers(method, path, body, requestId, 'application/json');
    let status: number;
    let text: string;
    try {
      const res = await this.pool.request({
        method,
        path,
        headers,
        body: body || undefined,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
      status = res.statusCode;
      // Inside the try: the connection can also fail (or time out) while the body arrives.
      text = await res.body.text();
    } catch (err) {
      throw this.unreachable(err, p);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300 && parsed !== undefined) return parsed as T;
    throw this.refusal(status, parsed, p);
  }

  /** Opens a long-lived stream (SSE): no body timeout; the caller pipes it on and aborts through `signal`. */
  async stream(p: string, requestId: string | undefined, signal: AbortSignal): Promise<Readable> {
    const path = `${this.prefix}${p}`;
    let res;
    try {
      res = await this.pool.request({
        method: 'GET',
        path,
        headers: this.headers('GET', path, '', requestId, 'text/event-stream'),
        signal,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: 0,
      });
    } catch (err) {
      throw this.unreachable(err, p);
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      throw this.refusal(res.statusCode, undefined, p);
    }
    return res.body;
  }

  private unreachable(err: unknown, p: string): HttpException {
    this.logger.warn({ err: (err as Error).message, path: p.split('?')[0] }, `${this.opts.name} unreachable`);
    return new HttpException({ detail: this.opts.messages.unavailable }, HttpStatus.BAD_GATEWAY);
  }

  private refusal(status: number, parsed: unknown, p: string): HttpException {
    const path = p.split('?')[0];
    const m = this.opts.messages;
    if (PASS_THROUGH.has(status)) {
      const detail = (parsed as { detail?: unknown } | undefined)?.detail;
      return new HttpException({ detail: typeof detail === 'string' ? detail.slice(0, 300) : m.rejected }, status);
    }
    if (status === 401 || status === 403) {
      this.logger.error({ status, path }, `${this.opts.name} refused our credentials; ${m.refusedUsHint}`);
      return new HttpException({ detail: m.refusedUs }, HttpStatus.BAD_GATEWAY);
    }
    this.logger.warn({ status, path }, `${this.opts.name} error`);
    return new HttpException({ detail: m.failed(status) }, HttpStatus.BAD_GATEWAY);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }
}

/** bot-control, called with the shared secret (or a signature made with it). */
export abstract class BotControlClient extends UpstreamClient {}
/** device-auth's admin API, called with the server's admin key. */
export abstract class DeviceAuthAdmin extends UpstreamClient {}
/** room-gateway's admin API, called with the server's admin key. */
export abstract class RoomGatewayAdmin extends UpstreamClient {}

export function botControlClient(cfg: InterfaceProxyConfig): UpstreamClient {
  const secret = cfg.botControlSecret;
  return new UpstreamClient({
    name: 'bot-control',
    baseUrl: cfg.botControlBaseUrl,
    timeoutMs: cfg.botControlTimeoutMs,
    connections: 64,
    credentials: (method, pathWithQuery, body) => {
      if (!secret) return {};
      if (cfg.signRequests) return signRequest(secret, { method, pathWithQuery, body });
      return { [BOT_SECRET_HEADER]: secret };
    },
    messages: {
      unavailable: 'bot control server unavailable',
      refusedUs: 'bot control rejected the proxy',
      refusedUsHint: 'check BOT_CONTROL_SHARED_SECRET',
      failed: () => 'bot control server error',
      rejected: 'request rejected by bot control',
    },
  });
}

/** An admin API of the suite; the key is read per request, so a reloaded key takes effect at once. */
export function adminUpstream(name: string, baseUrl: string, keys: AdminKeySource, timeoutMs: number): UpstreamClient {
  return new UpstreamClient({
    name,
    baseUrl,
    timeoutMs,
    connections: 16,
    credentials: (): Record<string, string> => {
      const key = keys.keys().current;
      return key ? { [ADMIN_KEY_HEADER]: key } : {};
    },
    messages: {
      unavailable: `${name} is unavailable`,
      refusedUs: `${name} rejected the dashboard's admin key (server misconfiguration)`,
      refusedUsHint: 'check PORTCULLIS_ADMIN_API_KEY',
      failed: (status) => `${name} failed (status ${status})`,
      rejected: `${name} refused the request`,
    },
  });
}
