import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { InterfaceProxyConfig } from '../config';

export interface DashboardSession {
  /** Synchronizer CSRF token: read by the page over a same-origin GET, echoed in X-CSRF-Token. */
  csrfToken: string;
  expiresAt: number;
}

const MAX_SESSIONS = 1000;
const FAILURE_WINDOW_MS = 5 * 60_000;
const MAX_FAILURES = 10;

/**
 * In-memory operator sessions. A session only proves that someone presented
 * the admin key; it holds no key. Upstream calls carry the server's own
 * configured key. Only a SHA-256 of each session id is kept, so a heap dump
 * does not hand out live cookies. One replica's memory: put replicas behind
 * sticky sessions (docs/apps/interface-proxy.md, "Operator dashboard").
 */
@Injectable()
export class DashboardSessions {
  private readonly sessions = new Map<string, DashboardSession>();
  private readonly failures = new Map<string, { count: number; since: number }>();
  readonly ttlSeconds: number;

  constructor(cfg: InterfaceProxyConfig) {
    this.ttlSeconds = cfg.dashboard?.sessionTtlSeconds ?? 3600;
  }

  create(now = Date.now()): { id: string; session: DashboardSession } {
    this.sweep(now);
    if (this.sessions.size >= MAX_SESSIONS) {
      // Drop the oldest (Map keeps insertion order) rather than refuse an operator.
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const session = { csrfToken: randomBytes(32).toString('base64url'), expiresAt: now + this.ttlSeconds * 1000 };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  get(id: string | undefined, now = Date.now()): DashboardSession | undefined {
    if (!id) return undefined;
    const key = digest(id);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    if (s.expiresAt <= now) {
      this.sessions.delete(key);
      return undefined;
    }
    return s;
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(digest(id));
  }

  /** Failed sign-ins per client address: MAX_FAILURES per window, then 429 until it passes. */
  signInBlocked(ip: string, now = Date.now()): boolean {
    const f = this.failures.get(ip);
    if (!f) return false;
    if (now - f.since > FAILURE_WINDOW_MS) {
      this.failures.delete(ip);
      return false;
    }
    return f.count >= MAX_FAILURES;
  }

  signInFailed(ip: string, now = Date.now()): void {
    const f = this.failures.get(ip);
    if (!f || now - f.since > FAILURE_WINDOW_MS) this.failures.set(ip, { count: 1, since: now });
    else f.count += 1;
    if (this.failures.size > 10_000) this.failures.clear();
  }

  private sweep(now: number): void {
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
  }
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
