import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per app (the all-in-one runner hosts several apps in one
 * process, so the global default registry would mix them). Labels are bounded:
 * route patterns and reason codes, never raw ids, keys or URLs.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly authDecisions: Counter<'app' | 'route' | 'decision' | 'reason'>;
  readonly httpDuration: Histogram<'app' | 'method' | 'route' | 'status'>;
  readonly throttled: Counter<'app' | 'route'>;
  readonly revocationsReceived: Counter<'app'>;
  readonly natsConnected: Gauge<'app'>;
  readonly auditEvents: Counter<'app' | 'action' | 'decision' | 'reason'>;

  constructor(readonly app: string) {
    this.registry.setDefaultLabels({ app });
    collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
    this.authDecisions = new Counter({
      name: 'portcullis_auth_decisions_total',
      help: 'Authentication decisions by route pattern, decision and reason code',
      labelNames: ['app', 'route', 'decision', 'reason'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'portcullis_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern',
      labelNames: ['app', 'method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.throttled = new Counter({
      name: 'portcullis_throttled_requests_total',
      help: 'Requests refused by a rate limit',
      labelNames: ['app', 'route'],
      registers: [this.registry],
    });
    this.revocationsReceived = new Counter({
      name: 'portcullis_revocations_received_total',
      help: 'Device revocation events applied by this app',
      labelNames: ['app'],
      registers: [this.registry],
    });
    this.natsConnected = new Gauge({
      name: 'portcullis_nats_connected',
      help: '1 when the NATS connection is up (always 1 for the in-process transport)',
      labelNames: ['app'],
      registers: [this.registry],
    });
    this.auditEvents = new Counter({
      name: 'portcullis_audit_events_total',
      help: 'Audit events (authentication decisions) by action, decision and reason code',
      labelNames: ['app', 'action', 'decision', 'reason'],
      registers: [this.registry],
    });
  }

  authDecision(route: string, decision: string, reason: string): void {
    this.authDecisions.inc({ app: this.app, route, decision, reason });
  }
}
