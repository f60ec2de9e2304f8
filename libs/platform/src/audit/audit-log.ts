import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { type AuditDecision, type AuditEvent, Subjects } from '@portcullis/contracts';
import { AppLogger } from '../logging/app-logger';
import { EVENTS_CLIENT } from '../messaging/messaging.module';
import { MetricsService } from '../metrics/metrics.service';

export interface AuditRecord {
  principal?: string;
  /** What was decided on: a route pattern (`GET /sessions/:pid`) or a fixed name (`device.auth`). */
  action: string;
  /**
   * The instance acted on (a room id), appended to the event's action after a space
   * (`signaling.connect <room>`). Kept apart so the metric labels only the fixed action.
   */
  target?: string;
  decision: AuditDecision;
  /** A fixed reason code (`wrong_key`), never free text: it is a metric label too. */
  reason: string;
  request_id?: string;
  client_ip?: string;
}

/**
 * The app's audit log, one per app (PlatformModule provides it): each audited
 * authentication decision becomes one JSON log line (`{"context":"Audit","audit":{...}}`)
 * written with the app's own logger, one event on `Subjects.auditEvent` through the
 * app's EVENTS_CLIENT, and one count in `portcullis_audit_events_total`. The reason
 * goes here, never to the caller: refusals get fixed bodies. Which decisions are
 * audited is the auth guard's rule (docs/auth.md).
 */
@Injectable()
export class AuditLog {
  /** Whether the last emit failed, so an outage logs one warning, not one per event. */
  private failing = false;

  constructor(
    private readonly appLogger: AppLogger,
    private readonly metrics: MetricsService,
    @Inject(EVENTS_CLIENT) private readonly client: ClientProxy,
  ) {}

  /** Never throws and never waits: an audit transport problem must not turn an auth decision into a 500. */
  record(r: AuditRecord): AuditEvent {
    // Only the format's fields ever leave the process, whatever the caller passed.
    const event: AuditEvent = {
      time: new Date().toISOString(),
      app: this.metrics.app,
      principal: r.principal,
      action: r.target ? `${r.action} ${r.target}` : r.action,
      decision: r.decision,
      reason: r.reason,
      request_id: r.request_id,
      client_ip: r.client_ip,
    };
    const level = event.decision === 'allow' ? 'debug' : 'warn';
    this.appLogger.pino[level]({ context: 'Audit', audit: event });
    this.metrics.auditEvents.inc({ app: event.app, action: r.action, decision: r.decision, reason: r.reason });
    try {
      this.client
        .emit(Subjects.auditEvent, event)
        .subscribe({ complete: () => this.published(), error: (err: unknown) => this.failed(err) });
    } catch (err) {
      this.failed(err);
    }
    return event;
  }

  private published(): void {
    if (this.failing) this.appLogger.log('audit events are published again', 'AuditLog');
    this.failing = false;
  }

  private failed(err: unknown): void {
    if (!this.failing)
      this.appLogger.warn(
        `audit event not published (the log line was written): ${err instanceof Error ? err.message : String(err)}`,
        'AuditLog',
      );
    this.failing = true;
  }
}
