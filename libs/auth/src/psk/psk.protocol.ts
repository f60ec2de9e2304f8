import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The P2P pre-shared-key challenge-response, transport-agnostic: the
 * sessions below only see plain message objects and a `send` callback, so the
 * relay of room-gateway or a WebRTC data channel can carry them alike.
 *
 *   Client                         Worker
 *     |-- HELLO ------------------->|   (the client opens the conversation)
 *     |<------ AUTH_CHALLENGE(nonce)|   fresh 32-byte nonce per challenge
 *     |-- AUTH_RESPONSE(hmac) ----->|   HMAC-SHA-256, see pskResponse()
 *     |<------ AUTH_SUCCESS / AUTH_FAILURE
 *     |== commands ================>|   none accepted before AUTH_SUCCESS
 *
 * Legacy mode (worker without a secret): no AUTH_CHALLENGE, the worker answers
 * HELLO with READY and accepts commands at once.
 */
export const PSK_DOMAIN = 'portcullis-p2p-psk-v1';
export const PSK_NONCE_BYTES = 32;
export const PSK_TIMEOUT_MS = 10_000;

export type PskFailureReason = 'invalid_credentials' | 'timeout' | 'no_secret' | 'not_authenticated';

export type PskMessage =
  | { type: 'HELLO' }
  | { type: 'AUTH_CHALLENGE'; nonce: string }
  | { type: 'AUTH_RESPONSE'; hmac: string }
  | { type: 'AUTH_SUCCESS' }
  | { type: 'AUTH_FAILURE'; reason: PskFailureReason }
  | { type: 'READY'; auth: 'none' };

const PSK_TYPES = new Set(['HELLO', 'AUTH_CHALLENGE', 'AUTH_RESPONSE', 'AUTH_SUCCESS', 'AUTH_FAILURE', 'READY']);

export function isPskMessage(m: unknown): m is PskMessage {
  return typeof m === 'object' && m !== null && PSK_TYPES.has((m as { type?: unknown }).type as string);
}

/** The failure texts peers print as they are (first line), with a hint (second line) where there is one. */
export const PSK_ERROR_TEXT: Record<PskFailureReason, string> = {
  invalid_credentials:
    'ERROR: P2P authentication failed: Invalid credentials\nEnsure the room secret matches between worker and client.',
  timeout: 'ERROR: P2P authentication failed: Timeout',
  no_secret:
    'ERROR: P2P authentication failed: No secret configured\nConfigure the room secret using --room-secret, environment variable, or credentials file.',
  not_authenticated: 'ERROR: P2P authentication failed: Command sent before authentication',
};

/** Who the response is bound to: a response is worthless for any other room, worker, client or nonce. */
export interface PskBinding {
  roomId: string;
  workerId: string;
  clientId: string;
}

/**
 * HMAC-SHA-256(secret, JSON([domain, room, worker, client, nonce])), hex.
 * JSON framing keeps the fields unambiguous (no "a|b" vs "a|" + "b" collisions).
 */
export function pskResponse(secret: string, binding: PskBinding, nonceHex: string): string {
  const input = JSON.stringify([PSK_DOMAIN, binding.roomId, binding.workerId, binding.clientId, nonceHex]);
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(input).digest('hex');
}

/** Constant-time check of a presented response against the expected one (both digested to equal length). */
export function pskVerify(secret: string, binding: PskBinding, nonceHex: string, presented: unknown): boolean {
  const expected = Buffer.from(pskResponse(secret, binding, nonceHex), 'hex');
  const wellFormed = typeof presented === 'string' && /^[0-9a-f]{64}$/.test(presented);
  // A malformed response is compared against zeros so it costs the same and still fails.
  const got = wellFormed ? Buffer.from(presented, 'hex') : Buffer.alloc(32);
  return timingSafeEqual(expected, got) && wellFormed;
}

export type PskOutcome = { ok: true; legacy: boolean } | { ok: false; reason: PskFailureReason };

export interface PskTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: PskTimers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface SessionOptions {
  /** Undefined or empty: legacy mode (worker) / "no secret configured" (client). */
  secret?: string;
  binding: PskBinding;
  send(msg: PskMessage): void;
  /** Called once, when the handshake ends either way. */
  onDone(outcome: PskOutcome): void;
  timeoutMs?: number;
  timers?: PskTimers;
  random?: (bytes: number) => Buffer;
}

type State = 'idle' | 'challenged' | 'authenticated' | 'failed';

abstract class PskSession {
  protected state: State = 'idle';
  private timer?: unknown;
  protected readonly timers: PskTimers;

  constructor(protected readonly o: SessionOptions) {
    this.timers = o.timers ?? realTimers;
  }

  get authenticated(): boolean {
    return this.state === 'authenticated';
  }

  get finished(): boolean {
    return this.state === 'authenticated' || this.state === 'failed';
  }

  protected arm(): void {
    this.timer = this.timers.set(() => this.fail('timeout', true), this.o.timeoutMs ?? PSK_TIMEOUT_MS);
  }

  protected succeed(legacy: boolean): void {
    this.disarm();
    this.state = 'authenticated';
    this.o.onDone({ ok: true, legacy });
  }

  protected fail(reason: PskFailureReason, tell: boolean): void {
    if (this.finished) return;
    this.disarm();
    this.state = 'failed';
    if (tell) this.o.send({ type: 'AUTH_FAILURE', reason });
    this.o.onDone({ ok: false, reason });
  }

  /** Stop the timer (the transport closed). */
  dispose(): void {
    this.disarm();
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }
}

/**
 * The worker's side for one client. Feed it every message from that client;
 * `accept` returns true only for application messages (commands) received
 * after AUTH_SUCCESS (or in legacy mode). Anything else before success ends
 * the session with AUTH_FAILURE.
 */
export class PskWorkerSession extends PskSession {
  private nonce?: string;

  /** The client said HELLO (its connection is open): challenge it, or in legacy mode let it in. */
  private begin(): void {
    if (!this.o.secret) {
      this.o.send({ type: 'READY', auth: 'none' });
      this.succeed(true);
      return;
    }
    this.nonce = (this.o.random ?? randomBytes)(PSK_NONCE_BYTES).toString('hex');
    this.state = 'challenged';
    this.arm();
    this.o.send({ type: 'AUTH_CHALLENGE', nonce: this.nonce });
  }

  accept(msg: unknown): boolean {
    if (this.state === 'failed') return false;
    if (this.state === 'authenticated') return !isPskMessage(msg);
    const type = (msg as { type?: unknown })?.type;
    if (this.state === 'idle' && type === 'HELLO') {
      this.begin();
      return false;
    }
    if (this.state === 'challenged' && type === 'AUTH_RESPONSE') {
      const nonce = this.nonce as string;
      // One response per challenge: the nonce is spent whatever the result.
      this.nonce = undefined;
      if (pskVerify(this.o.secret as string, this.o.binding, nonce, (msg as { hmac?: unknown }).hmac)) {
        this.o.send({ type: 'AUTH_SUCCESS' });
        this.succeed(false);
      } else this.fail('invalid_credentials', true);
      return false;
    }
    this.fail(isPskMessage(msg) ? 'invalid_credentials' : 'not_authenticated', true);
    return false;
  }
}

/** The client's side: says HELLO, answers the challenge, waits for the verdict (10 s in all). */
export class PskClientSession extends PskSession {
  start(): void {
    this.arm();
    this.o.send({ type: 'HELLO' });
  }

  /** Feed every message from the worker; returns true for application messages after the handshake. */
  accept(msg: unknown): boolean {
    if (this.state === 'failed') return false;
    if (this.state === 'authenticated') return !isPskMessage(msg);
    const m = msg as PskMessage;
    switch (m?.type) {
      case 'AUTH_CHALLENGE':
        if (this.state !== 'idle' || typeof m.nonce !== 'string' || !/^[0-9a-f]{64}$/.test(m.nonce)) break;
        if (!this.o.secret) {
          this.fail('no_secret', false);
          return false;
        }
        this.state = 'challenged';
        this.o.send({ type: 'AUTH_RESPONSE', hmac: pskResponse(this.o.secret, this.o.binding, m.nonce) });
        return false;
      case 'AUTH_SUCCESS':
        if (this.state !== 'challenged') break;
        this.succeed(false);
        return false;
      case 'READY':
        if (this.state !== 'idle') break;
        this.succeed(true);
        return false;
      case 'AUTH_FAILURE':
        this.fail(m.reason === 'timeout' || m.reason === 'not_authenticated' ? m.reason : 'invalid_credentials', false);
        return false;
    }
    // Anything else from a worker that has not let us in is not trusted.
    this.fail('invalid_credentials', false);
    return false;
  }
}
