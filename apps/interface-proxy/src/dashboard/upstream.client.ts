import { HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ADMIN_KEY_HEADER, AdminKeySource } from '@portcullis/auth';
import { REQUEST_ID_HEADER } from '@portcullis/platform';
import { Pool } from 'undici';

const PASS_THROUGH = new Set([400, 404, 409, 422, 429]);

/**
 * A pooled client to one admin API of the suite (device-auth, room-gateway)
 * that attaches the server's own admin key. The browser only ever holds a
 * session cookie; answers come back as `{detail}` errors the page can show.
 */
export class AdminUpstream {
  private readonly logger: Logger;
  private readonly pool: Pool;
  private readonly prefix: string;

  constructor(readonly name: string, baseUrl: string, private readonly keys: AdminKeySource, private readonly timeoutMs: number) {
    const base = new URL(baseUrl);
    this.prefix = base.pathname.replace(/\/$/, '');
    this.pool = new Pool(base.origin, { connections: 16, keepAliveTimeout: 30_000 });
    this.logger = new Logger(`AdminUpstream(${name})`);
  }

  async call<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, payload?: unknown, requestId?: string): Promise<T> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const headers: Record<string, string> = { accept: 'application/json' };
    const key = this.keys.keys().current;
    if (key) headers[ADMIN_KEY_HEADER] = key;
    if (body) headers['content-type'] = 'application/json';
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    let res;
    try {
      res = await this.pool.request({ method, path: `${this.prefix}${path}`, headers, body, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, path: path.split('?')[0] }, `${this.name} unreachable`);
      throw new HttpException({ detail: `${this.name} is unavailable` }, HttpStatus.BAD_GATEWAY);
    }
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (res.statusCode >= 200 && res.statusCode < 300 && parsed !== undefined) return parsed as T;
    if (PASS_THROUGH.has(res.statusCode)) {
      const detail = (parsed as { detail?: unknown; message?: unknown } | undefined)?.detail;
      throw new HttpException({ detail: typeof detail === 'string' ? detail.slice(0, 300) : `${this.name} refused the request` }, res.statusCode);
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      this.logger.error({ status: res.statusCode, path: path.split('?')[0] }, `${this.name} refused the dashboard's admin key; check PORTCULLIS_ADMIN_API_KEY`);
      throw new HttpException({ detail: `${this.name} rejected the dashboard's admin key (server misconfiguration)` }, HttpStatus.BAD_GATEWAY);
    }
    this.logger.warn({ status: res.statusCode, path: path.split('?')[0] }, `${this.name} error`);
    throw new HttpException({ detail: `${this.name} failed (status ${res.statusCode})` }, HttpStatus.BAD_GATEWAY);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export abstract class DeviceAuthAdmin extends AdminUpstream {}
export abstract class RoomGatewayAdmin extends AdminUpstream {}
