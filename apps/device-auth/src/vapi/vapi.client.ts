import {
  BadGatewayException,
  BadRequestException,
  HttpException,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { DeviceAuthConfig } from '../config';

export interface VapiCall {
  id: string;
  status?: string;
  assistantId?: string;
  assistantOverrides?: { metadata?: Record<string, unknown> } & Record<string, unknown>;
  metadata?: Record<string, unknown>;
  monitor?: { controlUrl?: string; listenUrl?: string };
  [k: string]: unknown;
}

/**
 * The server side of Vapi's API (https://docs.vapi.ai/api-reference): web
 * calls are created with `POST /call/web`, read with `GET /call/{id}`, and a
 * live call is ended through its `monitor.controlUrl` with `{"type":"end-call"}`.
 * The API key goes only to VAPI_BASE_URL, never into a response or a log line.
 */
@Injectable()
export class VapiClient {
  private readonly logger = new Logger(VapiClient.name);

  constructor(private readonly cfg: DeviceAuthConfig) {}

  createWebCall(body: Record<string, unknown>): Promise<VapiCall> {
    return this.request<VapiCall>('POST', '/call/web', body);
  }

  getCall(id: string): Promise<VapiCall> {
    // encodeURIComponent throws on a lone surrogate; such an id names no call.
    if (!(id as unknown as { isWellFormed(): boolean }).isWellFormed())
      throw new BadRequestException({ detail: 'call_id is not valid text' });
    return this.request<VapiCall>('GET', `/call/${encodeURIComponent(id)}`);
  }

  /** The control URL is per call and needs no key; the key is never sent there. */
  async endCall(controlUrl: string): Promise<void> {
    const u = new URL(controlUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      throw new BadGatewayException({ detail: 'voice vendor returned an unusable call' });
    await this.send('POST', u.toString(), { type: 'end-call' }, false);
  }

  private request<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.cfg.vapiApiKey) throw new ServiceUnavailableException({ detail: 'voice vendor not configured' });
    return this.send<T>(method, `${this.cfg.vapiBaseUrl}${path}`, body, true);
  }

  private async send<T>(method: string, url: string, body: unknown, withKey: boolean): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (withKey) headers.authorization = `Bearer ${this.cfg.vapiApiKey}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.cfg.vapiTimeoutMs),
        redirect: 'error',
      });
      // Inside the try: the vendor can also reset or stall (the timeout covers it) mid-body.
      text = await res.text();
    } catch (err) {
      this.logger.warn(`vapi ${method} unreachable: ${err instanceof Error ? err.name : 'error'}`);
      throw new BadGatewayException({ detail: 'voice vendor unavailable' });
    }
    if (res.ok) {
      try {
        return (text ? JSON.parse(text) : {}) as T;
      } catch {
        throw new BadGatewayException({ detail: 'voice vendor returned an unreadable answer' });
      }
    }
    // Status only: the vendor's body may echo what it was sent.
    this.logger.warn(`vapi ${method} answered ${res.status}`);
    throw vendorError(res.status, res.headers.get('retry-after'));
  }
}

function vendorError(status: number, retryAfter: string | null): HttpException {
  if (status === 401 || status === 403)
    return new BadGatewayException({ detail: 'voice vendor refused the server credentials' });
  if (status === 404) return new NotFoundException({ detail: 'call not found' });
  if (status === 400 || status === 422) return new BadRequestException({ detail: 'voice vendor rejected the request' });
  if (status === 429) {
    const e = new ServiceUnavailableException({ detail: 'voice vendor is rate limiting; retry later' });
    if (retryAfter && /^\d+$/.test(retryAfter))
      (e as HttpException & { headers?: Record<string, string> }).headers = { 'retry-after': retryAfter };
    return e;
  }
  return new BadGatewayException({ detail: 'voice vendor unavailable' });
}
