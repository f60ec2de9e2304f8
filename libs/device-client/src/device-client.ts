import { Clock, systemClock } from './clock';

export interface DeviceClientOptions {
  /** device-auth's base URL (`proxy_url` in a Pi's device config). */
  baseUrl: string;
  deviceId: string;
  deviceSecret: string;
  clock?: Clock;
  /** Fraction of the token lifetime after which it is refreshed (0.8). */
  refreshAt?: number;
  /** First retry delay after a failed attempt to get a token (default 5 s); doubles per failure in a row. */
  retryMs?: number;
  /** Longest retry delay (default 15 min), Retry-After aside. */
  maxRetryMs?: number;
  /**
   * Sign-ins refused with 401 in a row after which the client gives up (default 3): device-auth
   * answers the same 401 to an unknown device, a wrong secret and a revoked device, so only
   * repetition, across backed-off retries, tells a refusal that will not change.
   */
  maxAuthRefusals?: number;
  /** A number in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
  fetch?: typeof fetch;
  onEvent?: (e: DeviceClientEvent) => void;
}

export type DeviceClientEvent =
  | { type: 'authenticated'; expiresAt: number }
  | { type: 'refreshed'; expiresAt: number }
  | { type: 'refresh_refused' }
  | { type: 'error'; message: string }
  /** The next attempt to get a token, `inMs` from now; `status` is what the last one got (none: no answer). */
  | { type: 'retry_scheduled'; inMs: number; attempt: number; status?: number }
  /** The client stopped for good: its credentials were refused `refusals` times in a row. */
  | { type: 'stopped'; reason: 'credentials_refused'; refusals: number };

export class DeviceClientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** From the answer's Retry-After, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeviceClientError';
  }
}

/** Thrown once the client has given up: its credentials were refused repeatedly. Not retried. */
export class DeviceCredentialsRefused extends DeviceClientError {
  constructor(readonly refusals: number) {
    super(`device credentials refused ${refusals} times in a row; not retrying (revoked, or the secret is wrong)`, 401);
    this.name = 'DeviceCredentialsRefused';
  }
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Longest wait a Retry-After can impose, so a broken header cannot park a device for days. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * The delay before retry number `attempt` (1 for the first): exponential from `baseMs`,
 * capped at `maxMs`, with equal jitter (between half and all of it) so a fleet that failed
 * together does not retry together; never sooner than the server's Retry-After.
 */
export function backoffDelay(
  attempt: number,
  opts: { baseMs: number; maxMs: number; random: () => number },
  retryAfter?: number,
): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.round(exp / 2 + opts.random() * (exp / 2));
  return Math.max(jittered, Math.min(retryAfter ?? 0, MAX_RETRY_AFTER_MS));
}

interface TokenState {
  token: string;
  obtainedAt: number;
  expiresAt: number;
}

/**
 * The device side: authenticates with device_id + device_secret, keeps a
 * short-lived token, refreshes it at 80% of its lifetime, authenticates again
 * when a refresh is refused or the device was offline past expiry, and calls
 * the vendor only through device-auth's proxy. It never holds a vendor key.
 *
 * When getting a token fails (401, 429, 503, no answer) it retries with
 * exponential backoff and jitter, never sooner than Retry-After. After
 * `maxAuthRefusals` sign-ins in a row refused with 401 it stops for good
 * (a `stopped` event; every later call rejects with DeviceCredentialsRefused)
 * instead of knocking forever with credentials that will not work.
 */
export class DeviceClient {
  private state?: TokenState;
  private timer?: unknown;
  private running = false;
  private pending?: Promise<string>;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;
  /** Failed attempts to get a token in a row (any cause). */
  private failures = 0;
  /** Sign-ins refused with 401 in a row. */
  private refusals = 0;
  private refused?: DeviceCredentialsRefused;

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

  /** True once the client gave up on its credentials. */
  get stopped(): boolean {
    return this.refused !== undefined;
  }

  /**
   * Authenticates (retrying with backoff until it succeeds, or rejecting once the
   * credentials were refused for good or stop() was called) and keeps the token
   * fresh in the background until stop().
   */
  async start(): Promise<void> {
    this.running = true;
    for (;;) {
      try {
        await this.token();
        return;
      } catch (err) {
        if (this.refused || !this.running) throw err;
        await new Promise<void>((resolve) => {
          this.timer = this.clock.setTimeout(() => {
            this.timer = undefined;
            resolve();
          }, this.retryDelay(err));
        });
        if (!this.running) throw err;
      }
    }
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A token valid now: the held one, a refreshed one, or a new one from the secret. */
  token(): Promise<string> {
    if (this.refused) return Promise.reject(this.refused);
    this.pending ??= this.obtain()
      .then(
        (t) => {
          this.failures = 0;
          return t;
        },
        (err: unknown) => {
          this.failures++;
          throw err;
        },
      )
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  async info(): Promise<Record<string, unknown>> {
    return this.authorized('GET', '/device/info');
  }

  async startCall(assistantId: string, assistantOverrides?: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.authorized('POST', '/vapi/start', {
      assistant_id: assistantId,
      ...(assistantOverrides ? { assistant_overrides: assistantOverrides } : {}),
    });
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
    if (r.status === 401) {
      this.refusals++;
      if (this.refusals >= (this.opts.maxAuthRefusals ?? 3)) this.giveUp();
    }
    if (r.status !== 200) throw new DeviceClientError(`authentication refused (${r.status})`, r.status, r.retryAfterMs);
    this.refusals = 0;
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
    if (r.status !== 200) throw new DeviceClientError(`refresh failed (${r.status})`, r.status, r.retryAfterMs);
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
        if (!this.refused) this.schedule(this.retryDelay(err));
      });
    }, due);
  }

  /** The wait before the next attempt after `err`, announced as a retry_scheduled event. */
  private retryDelay(err: unknown): number {
    const e = err instanceof DeviceClientError ? err : undefined;
    const inMs = backoffDelay(
      Math.max(1, this.failures),
      {
        baseMs: this.opts.retryMs ?? 5000,
        maxMs: this.opts.maxRetryMs ?? 15 * 60 * 1000,
        random: this.opts.random ?? Math.random,
      },
      e?.retryAfterMs,
    );
    this.opts.onEvent?.({ type: 'retry_scheduled', inMs, attempt: this.failures, status: e?.status });
    return inMs;
  }

  private giveUp(): never {
    this.refused = new DeviceCredentialsRefused(this.refusals);
    this.state = undefined;
    this.stop();
    this.opts.onEvent?.({ type: 'stopped', reason: 'credentials_refused', refusals: this.refusals });
    throw this.refused;
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
      throw new DeviceClientError(
        `${method} ${path} failed (${r.status})${typeof detail === 'string' ? `: ${detail}` : ''}`,
        r.status,
      );
    }
    return r.body as Record<string, unknown>;
  }

  private post(path: string, json?: unknown, token?: string) {
    return this.send('POST', path, json, token);
  }

  private async send(
    method: string,
    path: string,
    json: unknown,
    token?: string,
  ): Promise<{ status: number; body: unknown; retryAfterMs?: number }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await this.fetch(`${this.opts.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
      });
    } catch (err) {
      throw new DeviceClientError(`${method} ${path}: no answer (${err instanceof Error ? err.message : String(err)})`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), this.clock.now()) };
  }
}
