import { Logger } from '@nestjs/common';
import type { AuditDecision, AuditEvent } from '@portcullis/contracts';

export type AuditSink = (e: AuditEvent) => void;

/**
 * Process-wide sinks by app name, for every AuditLog of that app wherever it was
 * constructed (the all-in-one runner hosts several apps in one process, so the
 * key is the app, not the process). @portcullis/platform's AuditPublisher uses
 * it to put each decision on NATS as well.
 */
const appSinks = new Map<string, Set<AuditSink>>();

/**
 * The current time as ISO 8601, formatted once per millisecond: a busy guard
 * records many decisions a millisecond, and toISOString is the costliest part
 * of building an event.
 */
let isoMs = 0;
let isoText = '';
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

const httpActions = new Map<string, Map<string, string>>();

/**
 * The audit action of an HTTP route, `METHOD /route/:pattern`, built once per
 * pair. A string built per request is a new string each time, and the audit
 * publisher's label lookup then hashes it anew: a constant one is hashed once.
 * Methods and route patterns are small fixed sets; the cap only bounds misuse.
 */
export function httpAction(method: string, route: string): string {
  let byMethod = httpActions.get(route);
  if (!byMethod) {
    if (httpActions.size >= 1024) httpActions.clear();
    byMethod = new Map();
    httpActions.set(route, byMethod);
  }
  let action = byMethod.get(method);
  if (action === undefined) {
    action = `${method} ${route}`;
    byMethod.set(method, action);
  }
  return action;
}

/**
 * Writes one structured audit line (`{"context":"Audit","audit":{...}}`) per authentication decision. The reason
 * goes here, never to the caller: refusal bodies are fixed.
 */
export class AuditLog {
  private readonly logger = new Logger('Audit');
  private readonly sinks: Array<(e: AuditEvent) => void> = [];

  constructor(private readonly app: string) {}

  /** Adds a sink for every AuditLog of `app`; returns the function that removes it. */
  static addAppSink(app: string, fn: AuditSink): () => void {
    const set = appSinks.get(app) ?? new Set<AuditSink>();
    set.add(fn);
    appSinks.set(app, set);
    return () => void set.delete(fn);
  }

  addSink(fn: (e: AuditEvent) => void): void {
    this.sinks.push(fn);
  }

  record(e: Omit<AuditEvent, 'time' | 'app'> & { decision: AuditDecision }): AuditEvent {
    // Every field named, in one order: one object shape for every event (a spread is a
    // generic copy per request), and only the format's fields ever leave the process.
    const event: AuditEvent = {
      time: isoNow(),
      app: this.app,
      principal: e.principal,
      action: e.action,
      decision: e.decision,
      reason: e.reason,
      request_id: e.request_id,
      client_ip: e.client_ip,
    };
    const shared = appSinks.get(this.app);
    // An app sink (the platform's AuditPublisher) writes the line with the app's own logger,
    // which skips all work when the level is off; Nest's logger is the fallback without one.
    if (!shared?.size) {
      if (e.decision === 'allow') this.logger.debug({ audit: event });
      else this.logger.warn({ audit: event });
    }
    for (const sink of this.sinks) sink(event);
    if (shared) for (const sink of shared) sink(event);
    return event;
  }
}
