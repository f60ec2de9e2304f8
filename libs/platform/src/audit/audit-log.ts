import { Logger } from '@nestjs/common';
import type { AuditDecision, AuditEvent } from '@portcullis/contracts';

export type AuditSink = (e: AuditEvent) => void;

/**
 * Process-wide sinks by app name, for every AuditLog of that app wherever it was
 * constructed (the all-in-one runner hosts several apps in one process, so the
 * key is the app, not the process). The platform's AuditPublisher uses it to put
 * each event on NATS as well.
 */
const appSinks = new Map<string, Set<AuditSink>>();

/**
 * Writes one structured audit line (`{"context":"Audit","audit":{...}}`) per audited
 * authentication decision. The reason goes here, never to the caller: refusals get
 * fixed bodies. Which decisions are audited is the auth guard's rule (docs/auth.md).
 */
export class AuditLog {
  private readonly logger = new Logger('Audit');
  private readonly sinks: AuditSink[] = [];

  constructor(private readonly app: string) {}

  /** Adds a sink for every AuditLog of `app`; returns the function that removes it. */
  static addAppSink(app: string, fn: AuditSink): () => void {
    const set = appSinks.get(app) ?? new Set<AuditSink>();
    set.add(fn);
    appSinks.set(app, set);
    return () => void set.delete(fn);
  }

  addSink(fn: AuditSink): void {
    this.sinks.push(fn);
  }

  record(e: Omit<AuditEvent, 'time' | 'app'> & { decision: AuditDecision }): AuditEvent {
    // Only the format's fields ever leave the process, whatever the caller passed.
    const event: AuditEvent = {
      time: new Date().toISOString(),
      app: this.app,
      principal: e.principal,
      action: e.action,
      decision: e.decision,
      reason: e.reason,
      request_id: e.request_id,
      client_ip: e.client_ip,
    };
    const shared = appSinks.get(this.app);
    // An app sink (the platform's AuditPublisher) writes the line with the app's own logger;
    // Nest's logger is the fallback without one.
    if (!shared?.size) {
      if (e.decision === 'allow') this.logger.debug({ audit: event });
      else this.logger.warn({ audit: event });
    }
    for (const sink of this.sinks) sink(event);
    if (shared) for (const sink of shared) sink(event);
    return event;
  }
}
