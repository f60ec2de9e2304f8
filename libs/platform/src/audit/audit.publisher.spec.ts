import { ClientProxy } from '@nestjs/microservices';
import { AuditLog } from './audit-log';
import { AuditEvent, Subjects } from '@portcullis/contracts';
import { JSONCodec } from 'nats';
import { Observable, of, throwError } from 'rxjs';
import { AppLogger } from '../logging/app-logger';
import { createPino } from '../logging/logger.module';
import { MetricsService } from '../metrics/metrics.service';
import { AUDIT_FLUSH_COUNT, AUDIT_FLUSH_MS, AuditPublisher, actionLabel, boundedLabel, encodeAuditEnvelope } from './audit.publisher';

const silentLogger = new AppLogger(createPino({ app: 'spec', level: 'silent' }));

/** Records what would go on the bus. */
function fakeClient(emit: (pattern: string, data: unknown) => Observable<unknown>): { client: ClientProxy; sent: Array<[string, AuditEvent]> } {
  const sent: Array<[string, AuditEvent]> = [];
  const client = {
    emit: (pattern: string, data: AuditEvent) => {
      sent.push([pattern, data]);
      return emit(pattern, data);
    },
  } as unknown as ClientProxy;
  return { client, sent };
}

async function counted(metrics: MetricsService): Promise<string> {
  return metrics.registry.getSingleMetricAsString('portcullis_audit_events_total');
}

describe(AuditPublisher.name, () => {
  const app = `spec-app-${Math.random().toString(36).slice(2)}`;

  it('puts every AuditLog event of its app on the audit subject and counts it, and ignores other apps', async () => {
    const metrics = new MetricsService(app);
    const { client, sent } = fakeClient(() => of(undefined));
    const publisher = new AuditPublisher(app, client, metrics, silentLogger);
    publisher.onModuleInit();
    try {
      const event = new AuditLog(app).record({ action: 'POST /join', decision: 'deny', reason: 'invalid_credential', request_id: 'r1' });
      new AuditLog(`${app}-other`).record({ action: 'POST /join', decision: 'deny', reason: 'invalid_credential' });
      // Counted at once; put on the bus with the next batch.
      expect(sent).toEqual([]);
      publisher.flush();
      expect(sent).toEqual([[Subjects.auditEvent, event]]);
      expect(await counted(metrics)).toContain(`portcullis_audit_events_total{app="${app}",action="POST /join",decision="deny",reason="invalid_credential"} 1`);
    } finally {
      publisher.beforeApplicationShutdown();
    }
    new AuditLog(app).record({ action: 'POST /join', decision: 'allow', reason: 'ok' });
    expect(sent).toHaveLength(1);
  });

  it('publishes once per app in a process; the next instance takes over when the first shuts down', () => {
    const a = fakeClient(() => of(undefined));
    const b = fakeClient(() => of(undefined));
    const first = new AuditPublisher(app, a.client, new MetricsService(app), silentLogger);
    const second = new AuditPublisher(app, b.client, new MetricsService(app), silentLogger);
    first.onModuleInit();
    second.onModuleInit();
    try {
      new AuditLog(app).record({ action: 'x', decision: 'allow', reason: 'ok' });
      second.flush();
      expect([a.sent.length, b.sent.length]).toEqual([0, 0]);
      // Shutting down flushes what is queued.
      first.beforeApplicationShutdown();
      expect([a.sent.length, b.sent.length]).toEqual([1, 0]);
      new AuditLog(app).record({ action: 'x', decision: 'allow', reason: 'ok' });
      second.flush();
      expect([a.sent.length, b.sent.length]).toEqual([1, 1]);
    } finally {
      first.beforeApplicationShutdown();
      second.beforeApplicationShutdown();
    }
  });

  it('never turns a transport failure into a failed auth decision', () => {
    const failing = fakeClient(() => throwError(() => new Error('nats down')));
    const throwing = { emit: () => { throw new Error('closed'); } } as unknown as ClientProxy;
    for (const client of [failing.client, throwing]) {
      const p = new AuditPublisher(app, client, new MetricsService(app), silentLogger);
      p.onModuleInit();
      try {
        expect(() => new AuditLog(app).record({ action: 'x', decision: 'deny', reason: 'wrong_key' })).not.toThrow();
        expect(() => p.flush()).not.toThrow();
      } finally {
        p.beforeApplicationShutdown();
      }
    }
  });

  it('encodes the same bytes as the Nest NATS client would, non-ASCII and absent fields included', () => {
    const event = new AuditLog(`${app}-enc`).record({ action: 'signaling.connect réunion \u{1F511}', decision: 'deny', reason: 'bad "quote"\n' });
    expect(event.principal).toBeUndefined();
    const bytes = encodeAuditEnvelope(event);
    expect(Buffer.from(bytes).equals(Buffer.from(JSONCodec().encode({ pattern: Subjects.auditEvent, data: event })))).toBe(true);
    const decoded = JSON.parse(Buffer.from(bytes).toString());
    expect(decoded).toEqual({ pattern: Subjects.auditEvent, data: JSON.parse(JSON.stringify(event)) });
    expect(Object.keys(decoded.data)).toEqual(['time', 'app', 'action', 'decision', 'reason']);
  });

  it('keeps metric labels bounded: numbers folded, odd characters replaced, length capped', () => {
    expect(boundedLabel('overlap_3600s')).toBe('overlap_Ns');
    expect(boundedLabel('overlap_60s')).toBe('overlap_Ns');
    expect(boundedLabel('/sessions/:pid/leave')).toBe('/sessions/:pid/leave');
    expect(boundedLabel('a"b\nc')).toBe('a_b_c');
    expect(boundedLabel('x'.repeat(200))).toHaveLength(64);
    expect(boundedLabel(undefined)).toBe('none');
  });

  it('labels the metric by what was done, never by which room: the event keeps the room', async () => {
    expect(actionLabel('GET /sessions/:pid')).toBe('GET /sessions/:pid');
    expect(actionLabel('POST unmatched')).toBe('POST unmatched');
    expect(actionLabel('BotSessions.list')).toBe('BotSessions.list');
    expect(actionLabel('signaling.connect room-7f3a')).toBe('signaling.connect');

    const { client, sent } = fakeClient(() => of(undefined));
    const metrics = new MetricsService(`${app}-rooms`);
    const p = new AuditPublisher(`${app}-rooms`, client, metrics, silentLogger);
    p.onModuleInit();
    try {
      const log = new AuditLog(`${app}-rooms`);
      for (const room of ['alpha', 'beta', 'gamma']) log.record({ action: `signaling.connect ${room}`, decision: 'allow', reason: 'ok' });
      p.flush();
      const text = await counted(metrics);
      expect(text).toMatch(/portcullis_audit_events_total\{[^}]*action="signaling.connect"[^}]*\} 3/);
      expect(text).not.toMatch(/alpha|beta|gamma/);
      expect(sent.map(([, e]) => e.action)).toEqual(['signaling.connect alpha', 'signaling.connect beta', 'signaling.connect gamma']);
    } finally {
      p.beforeApplicationShutdown();
    }
  });

  it('sends a batch by itself: after AUDIT_FLUSH_MS, or at once when AUDIT_FLUSH_COUNT are queued, in order', async () => {
    const { client, sent } = fakeClient(() => of(undefined));
    const p = new AuditPublisher(app, client, new MetricsService(app), silentLogger);
    p.onModuleInit();
    try {
      const log = new AuditLog(app);
      for (let i = 0; i < AUDIT_FLUSH_COUNT - 1; i++) log.record({ action: 'x', decision: 'allow', reason: 'ok', request_id: `r${i}` });
      expect(sent).toHaveLength(0);
      log.record({ action: 'x', decision: 'allow', reason: 'ok', request_id: 'last' });
      expect(sent.map(([, e]) => e.request_id)).toEqual([...Array.from({ length: AUDIT_FLUSH_COUNT - 1 }, (_, i) => `r${i}`), 'last']);
      log.record({ action: 'x', decision: 'deny', reason: 'wrong_key', request_id: 'timed' });
      expect(sent.at(-1)![1].request_id).toBe('last');
      await new Promise((r) => setTimeout(r, AUDIT_FLUSH_MS * 4));
      expect(sent.at(-1)![1].request_id).toBe('timed');
      expect(sent).toHaveLength(AUDIT_FLUSH_COUNT + 1);
    } finally {
      p.beforeApplicationShutdown();
    }
  });
});
