import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { AuditLog } from '@portcullis/auth';
import { AuditEvent, Subjects } from '@portcullis/contracts';
import { Counter } from 'prom-client';
import { EVENTS_CLIENT } from '../messaging/messaging.module';
import { MetricsService } from '../metrics/metrics.service';

export const AUDIT_APP = Symbol('AUDIT_APP');

/**
 * Publishers in this process by app name. Only the first one of an app publishes,
 * so two instances of one app in one process (tests) do not put every event on
 * the bus twice; when it shuts down the next one takes over.
 */
const active = new Map<string, AuditPublisher[]>();

/** Reason codes are fixed words; a few carry a number (`overlap_3600s`), folded so the label set stays bounded. */
export function boundedLabel(value: string | undefined): string {
  if (!value) return 'none';
  return value.replace(/\d+/g, 'N').replace(/[^A-Za-z0-9_.:/ {}-]/g, '_').slice(0, 64);
}

/**
 * Puts every audit event of this app (every `AuditLog` constructed with its
 * name, wherever in the app it lives) on `Subjects.auditEvent` through the
 * app's EVENTS_CLIENT, and counts it in `portcullis_audit_events_total`, so one
 * consumer sees every authentication decision of the suite in one format.
 * The JSON log line that AuditLog writes is unchanged.
 */
@Injectable()
export class AuditPublisher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditPublisher');
  private readonly events: Counter<'app' | 'action' | 'decision' | 'reason'>;
  private removeSink?: () => void;
  private failures = 0;

  constructor(
    @Inject(AUDIT_APP) private readonly app: string,
    @Inject(EVENTS_CLIENT) private readonly client: ClientProxy,
    private readonly metrics: MetricsService,
  ) {
    this.events = new Counter({
      name: 'portcullis_audit_events_total',
      help: 'Audit events (authentication decisions) by action, decision and reason code',
      labelNames: ['app', 'action', 'decision', 'reason'],
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    const list = active.get(this.app) ?? [];
    list.push(this);
    active.set(this.app, list);
    this.removeSink = AuditLog.addAppSink(this.app, (e) => {
      if (active.get(this.app)?.[0] === this) this.publish(e);
    });
  }

  beforeApplicationShutdown(): void {
    this.removeSink?.();
    const list = (active.get(this.app) ?? []).filter((p) => p !== this);
    if (list.length) active.set(this.app, list);
    else active.delete(this.app);
  }

  /** Never throws: an audit transport problem must not turn an auth decision into a 500. */
  publish(e: AuditEvent): void {
    this.events.inc({ app: this.metrics.app, action: boundedLabel(e.action), decision: e.decision, reason: boundedLabel(e.reason) });
    try {
      this.client.emit(Subjects.auditEvent, e).subscribe({ error: (err: unknown) => this.failed(err) });
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    // One warning per burst, not one per event.
    if (this.failures++ % 100 === 0) this.logger.warn(`audit event not published: ${err instanceof Error ? err.message : String(err)}`);
  }
}
