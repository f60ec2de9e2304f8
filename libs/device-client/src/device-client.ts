import { Clock, systemClock } from './clock';

export interface DeviceClientOptions {
  /** device-auth's base URL (the seed's proxy_url). */
  baseUrl: string;
  deviceId: string;
  deviceSecret: string;
  clock?: Clock;
  /** Fraction of the token lifetime after which it is refreshed (seed 002: 0.8). */
  refreshAt?: number;
  /** Delay before retrying after a network failure. */
  retryMs?: number;
  fetch?: typeof fetch;
  onEvent?: (e: DeviceClientEvent) => void;
}

export type DeviceClientEvent =
  | { type: 'authenticated'; expiresAt: number }
  | { type: 'refreshed'; expiresAt: number }
  | { type: 'refresh_refused' }
  | { type: 'error'; message: string };

export class DeviceClientError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'DeviceClientError';
  }
}

interface TokenState {
  token: string;
  obtainedAt: number;
  expiresAt: number;
}

/**
 * Seed 002's Pi client: authenticates with device_id + device_secret, keeps a
 * short-lived token, refreshes it at 80% of its lifetime, authenticates again
 * when a refresh is refused or the device was offline past expiry, and calls
 * the vendor only through device-auth's proxy. It never holds a vendor key.
 */
export class DeviceClient {
  private state?: TokenState;
  private timer?: unknown;
  private running = false;
  private pending?: Promise<string>;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: DeviceClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.fetch = opts.fetch ?? fetch;
  }

  /** When the current token is due for refresh (epoch ms), if there is one. */
  get refreshDueAt(): number | undefined {
    if (!this.state) return undefined;
    const ratio = this.opts.refreshAt ?? 0.8;
    return this.state.obtainedAt + (this.state.expiresAt - this.state.obtainedAt) * ratio;
  }

  get expiresAt(): number | undefined {
    return this.state?.expiresAt;
  }

  /** Authenticates now and keeps the token fresh in the background until stop(). */
  async start(): Promise<void> {
    this.running = true;
    await this.token();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A token valid now: the held one, a refreshed one, or a new one from the secret. */
  token(): Promise<string> {
    this.pending ??= this.obtain().finally(() => (this.pending = undefined));
    return this.pending;
  }

  async info(): Promise<Record<string, unknown>> {
    return this.authorized('GET', '/device/info');
  }

  async startCall(assistantId: string, assistantOverrides?: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.authorized('POST', '/vapi/start', { assistant_id: assistantId, ...(assistantOverrides ? { assistant_overrides: assistantOverrides } : {}) });
  }

  async stopCall(callId: string): Promise<Record<string, unknown>> {
    return this.authorized('POST', '/vapi/stop', { call_id: callId });
  }

  private async obtain(): Promise<string> {
    const now = this.clock.now();
    const s = this.state;
    if (s && now < (this.refreshDueAt as number)) return s.token;
    if (s && now < s.expiresAt) {
      const refreshed = await this.refresh(s.token);
      if (refreshed) return refreshed;
    }
    // No token, offline past expiry, or refresh refused: the secret again.
    return this.authenticate();
  }

  private async authenticate(): Promise<string> {
    const r = await this.post('/device/auth', { device_id: this.opts.deviceId, device_secret: this.opts.deviceSecret });
    if (r.status !== 200) throw new DeviceClientError(`authentication refused (${r.status})`, r.status);
    const s = this.keep(r.body as { access_token: string; expires_in: number });
    this.opts.onEvent?.({ type: 'authenticated', expiresAt: s.expiresAt });
    return s.token;
  }

  /** The new token, or undefined when device-auth refused the refresh. */
  private async refresh(current: string): Promise<string | undefined> {
    const r = await this.post('/device/refresh', undefined, current);
    if (r.status === 401) {
      this.opts.onEvent?.({ type: 'refresh_refused' });
      return undefined;
    }
    if (r.status !== 200) throw new DeviceClientError(`refresh failed (${r.status})`, r.status);
    const s = this.keep(r.body as { access_token: string; expires_in: number });
    this.opts.onEvent?.({ type: 'refreshed', expiresAt: s.expiresAt });
    return s.token;
  }

  private keep(body: { access_token: string; expires_in: number }): TokenState {
    const now = this.clock.now();
    this.state = { token: body.access_token, obtainedAt: now, expiresAt: now + body.expires_in * 1000 };
    this.schedule();
    return this.state;
  }

  private schedule(delay?: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    const due = delay ?? Math.max(0, (this.refreshDueAt as number) - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.token().catch((err: unknown) => {
        this.opts.onEvent?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
        this.schedule(this.opts.retryMs ?? 5000);
      });
    }, due);
  }

  private async authorized(method: string, path: string, json?: unknown): Promise<Record<string, unknown>> {
    let r = await this.send(method, path, json, await this.token());
    if (r.status === 401) {
      // Revoked generation or a token the server no longer honours: start again from the secret.
      this.state = undefined;
      r = await this.send(method, path, json, await this.token());
    }
    if (r.status < 200 || r.status >= 300) {
      const detail = (r.body as { detail?: unknown })?.detail;
      throw new DeviceClientError(`${method} ${path} failed (${r.status})${typeof detail === 'string' ? `: ${detail}` : ''}`, r.status);
    }
    return r.body as Record<string, unknown>;
  }

  private post(path: string, json?: unknown, token?: string) {
    return this.send('POST', path, json, token);
  }

  private async send(method: string, path: string, json: unknown, token?: string): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await this.fetch(`${this.opts.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  }
}
