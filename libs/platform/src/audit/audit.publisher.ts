import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { AuditLog } from './audit-log';
import { AuditEvent, Subjects } from '@portcullis/contracts';
import { InProcessClient } from '../messaging/in-process.transport';
import { EVENTS_CLIENT } from '../messaging/messaging.module';
import { NatsConnectionService } from '../messaging/nats-connection.service';
import { AppLogger, logContext } from '../logging/app-logger';
import { KeyedCounter } from '../metrics/keyed-counter';
import { MetricsService } from '../metrics/metrics.service';

export const AUDIT_APP = Symbol('AUDIT_APP');

/**
 * Publishers in this process by app name. Only the first one of an app publishes,
 * so two instances of one app in one process (tests) do not put every event on
 * the bus twice; when it shuts down the next one takes over.
 */
const active = new Map<string, AuditPublisher[]>();

/**
 * Events wait at most AUDIT_FLUSH_MS, or until AUDIT_FLUSH_COUNT are queued, and
 * then go out together: the NATS client writes everything published in one tick
 * with one socket write, and one write per request (or per event-loop turn)
 * cost more than the authentication check itself.
 */
export const AUDIT_FLUSH_MS = 5;
export const AUDIT_FLUSH_COUNT = 256;

/**
 * What @nestjs/microservices' NATS client puts on the wire for emit():
 * `{"pattern":...,"data":...}` as JSON. Built around the event's own JSON and
 * turned into bytes by Buffer.from, which is over twice as fast as the
 * TextEncoder inside nats' JSONCodec; the bytes are the same.
 */
const ENVELOPE_HEAD = `{"pattern":${JSON.stringify(Subjects.auditEvent)},"data":`;
export function encodeAuditEnvelope(e: AuditEvent): Uint8Array {
  return Buffer.from(`${ENVELOPE_HEAD}${JSON.stringify(e)}}`);
}

/** Reason codes are fixed words; a few carry a number (`overlap_3600s`), folded so the label set stays bounded. */
export function boundedLabel(value: string | undefined): string {
  if (!value) return 'none';
  let label = labels.get(value);
  if (label === undefined) {
    label = value.replace(/\d+/g, 'N').replace(/[^A-Za-z0-9_.:/ {}-]/g, '_').slice(0, 64);
    // Actions and reasons are a small fixed set; the cap only bounds the memo if a caller strays.
    if (labels.size >= 1024) labels.clear();
    labels.set(value, label);
  }
  return label;
}
const labels = new Map<string, string>();

/**
 * The metric label of an action. HTTP actions name a route pattern
 * (`GET /sessions/:pid`), a fixed set. Other actions may name an instance
 * after a space (`signaling.connect <room>`): the log line and the NATS event
 * keep it, the metric drops it, since a label per room is a series per room.
 */
export function actionLabel(action: string): string {
  let label = actionLabels.get(action);
  if (label === undefined) {
    const space = action.indexOf(' ');
    label = boundedLabel(space > 0 && !HTTP_ACTION.test(action) ? action.slice(0, space) : action);
    if (actionLabels.size >= 1024) actionLabels.clear();
    actionLabels.set(action, label);
  }
  return label;
}
const actionLabels = new Map<string, string>();
const HTTP_ACTION = /^[A-Z]+ (\/|unmatched$)/;

/**
 * Puts every audit event of this app (every `AuditLog` constructed with its
 * name, wherever in the app it lives) on `Subjects.auditEvent` through the
 * app's EVENTS_CLIENT, and counts it in `portcullis_audit_events_total`, so one
 * consumer sees every authentication decision of the suite in one format.
 * It also writes the audit log line, through the app's own logger.
 */
@Injectable()
export class AuditPublisher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditPublisher');
  private readonly events: KeyedCounter<'app' | 'action' | 'decision' | 'reason'>;
  private removeSink?: () => void;
  private failures = 0;
  private queue: AuditEvent[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(AUDIT_APP) private readonly app: string,
    @Inject(EVENTS_CLIENT) private readonly client: ClientProxy,
    private readonly metrics: MetricsService,
    private readonly appLogger: AppLogger,
    @Optional() private readonly nats?: NatsConnectionService,
  ) {
    this.events = new KeyedCounter({
      name: 'portcullis_audit_events_total',
      help: 'Audit events (authentication decisions) by action, decision and reason code',
      labelNames: ['app', 'action', 'decision', 'reason'],
      registry: metrics.registry,
    });
  }

  onModuleInit(): void {
    const list = active.get(this.app) ?? [];
    list.push(this);
    active.set(this.app, list);
    this.removeSink = AuditLog.addAppSink(this.app, (e) => {
      if (active.get(this.app)?.[0] === this) {
        this.writeLine(e);
        this.publish(e);
      }
    });
  }

  beforeApplicationShutdown(): void {
    this.removeSink?.();
    this.flush();
    const list = (active.get(this.app) ?? []).filter((p) => p !== this);
    if (list.length) active.set(this.app, list);
    else active.delete(this.app);
  }

  /** The JSON log line: allows at debug, refusals at warn; nothing is built when the level is off. */
  private writeLine(e: AuditEvent): void {
    const level = e.decision === 'allow' ? 'debug' : 'warn';
    // Inside a request, that request's app logger: tests run two instances of one app in a process.
    const pino = logContext.getStore()?.logger ?? this.appLogger.pino;
    if (pino.isLevelEnabled(level)) pino[level]({ context: 'Audit', audit: e });
  }

  /** Counts the event now and queues it for the bus. Never throws: an audit transport problem must not turn an auth decision into a 500. */
  publish(e: AuditEvent): void {
    this.events.inc(this.metrics.app, actionLabel(e.action), e.decision, boundedLabel(e.reason));
    this.queue.push(e);
    if (this.queue.length >= AUDIT_FLUSH_COUNT) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), AUDIT_FLUSH_MS);
      this.timer.unref();
    }
  }

  /**
   * Puts every queued event on the bus, one message each, in one tick. It runs
   * for every request, so it skips emit()'s per-message Observable where it can:
   * the same envelope straight onto a connected NATS, or onto the in-process bus.
   */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    const nc = this.nats?.currentConnection();
    for (const e of batch) {
      try {
        if (nc) nc.publish(Subjects.auditEvent, encodeAuditEnvelope(e));
        else if (this.client instanceof InProcessClient) this.client.emitNow(Subjects.auditEvent, e);
        else this.client.emit(Subjects.auditEvent, e).subscribe({ error: (err: unknown) => this.failed(err) });
      } catch (err) {
        this.failed(err);
      }
    }
  }

  private failed(err: unknown): void {
    // One warning per burst, not one per event.
    if (this.failures++ % 100 === 0) this.logger.warn(`audit event not published: ${err instanceof Error ? err.message : String(err)}`);
  }
}
