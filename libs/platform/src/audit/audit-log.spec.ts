import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { AuditEvent, AuditEventEnvelope, Subjects } from '@portcullis/contracts';
import { connect, NatsConnection } from 'nats';
import { createServer } from 'node:net';
import { AppLogger } from '../logging/app-logger';
import { createPino } from '../logging/logger.module';
import { MetricsService } from '../metrics/metrics.service';
import { AuditLog } from './audit-log';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** The JSON lines an app's logger writes. */
function lines(): { stream: NodeJS.WritableStream; parsed: Array<Record<string, unknown>> } {
  const parsed: Array<Record<string, unknown>> = [];
  const stream = { write: (line: string) => void parsed.push(JSON.parse(line) as Record<string, unknown>) };
  return { stream: stream as unknown as NodeJS.WritableStream, parsed };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function natsClient(url: string, app: string): ClientProxy {
  return ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [url], name: `${app}-client` } });
}

const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
};

describe('AuditLog', () => {
  const app = `spec-audit-${Math.random().toString(36).slice(2)}`;
  let nc: NatsConnection;
  let client: ClientProxy;
  let seen: AuditEventEnvelope[];

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    seen = [];
    const sub = nc.subscribe(Subjects.auditEvent);
    void (async () => {
      for await (const m of sub) {
        const envelope = JSON.parse(new TextDecoder().decode(m.data)) as AuditEventEnvelope;
        if (envelope.data.app === app) seen.push(envelope);
      }
    })();
    await nc.flush();
    client = natsClient(NATS_URL, app);
  });

  afterAll(async () => {
    await client.close();
    await nc.close();
  });

  it('writes the log line with the app logger, puts the same event on the audit subject, and counts it by fixed action', async () => {
    const log = lines();
    const metrics = new MetricsService(app);
    const audit = new AuditLog(new AppLogger(createPino({ app, level: 'debug', stream: log.stream })), metrics, client);

    const denied = audit.record({
      principal: 'pi_1',
      action: 'signaling.connect',
      target: 'room-7f3a',
      decision: 'deny',
      reason: 'not_member',
      request_id: 'r1',
    });
    const allowed = audit.record({ action: 'GET /sessions/:pid', decision: 'allow', reason: 'ok' });

    expect(denied.action).toBe('signaling.connect room-7f3a');
    expect(log.parsed.map((l) => [l.app, l.level, l.context, l.audit])).toEqual([
      [app, 40, 'Audit', JSON.parse(JSON.stringify(denied))],
      [app, 20, 'Audit', JSON.parse(JSON.stringify(allowed))],
    ]);
    await until(() => seen.length >= 2);
    // Events carry their time; the bus does not promise their order before the client has connected.
    expect(seen).toHaveLength(2);
    expect(seen).toEqual(
      expect.arrayContaining([
        { pattern: Subjects.auditEvent, data: JSON.parse(JSON.stringify(denied)) },
        { pattern: Subjects.auditEvent, data: JSON.parse(JSON.stringify(allowed)) },
      ]),
    );
    const counted = await metrics.registry.getSingleMetricAsString('portcullis_audit_events_total');
    expect(counted).toContain(
      `portcullis_audit_events_total{app="${app}",action="signaling.connect",decision="deny",reason="not_member"} 1`,
    );
    expect(counted).toContain(
      `portcullis_audit_events_total{app="${app}",action="GET /sessions/:pid",decision="allow",reason="ok"} 1`,
    );
    // The room is in the event and the line, never a metric label.
    expect(counted).not.toContain('room-7f3a');
  });

  it('builds every event with the format fields only, stamped with the time to the millisecond', async () => {
    const log = lines();
    const audit = new AuditLog(
      new AppLogger(createPino({ app, level: 'info', stream: log.stream })),
      new MetricsService(app),
      client,
    );
    const before = Date.now();
    const extra = {
      action: 'GET /x',
      decision: 'deny' as const,
      reason: 'wrong_key',
      principal: 'pi_1',
      request_id: 'r2',
      client_ip: '127.0.0.1',
      device_secret: 'ds_never',
    };
    const event = audit.record(extra);
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      time: event.time,
      app,
      principal: 'pi_1',
      action: 'GET /x',
      decision: 'deny',
      reason: 'wrong_key',
      request_id: 'r2',
      client_ip: '127.0.0.1',
    });
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before);
    await until(() => seen.some((e) => e.data.request_id === 'r2'));
    expect(JSON.stringify(seen)).not.toContain('ds_never');
    expect(JSON.stringify(log.parsed)).not.toContain('ds_never');
  });

  it('with NATS unreachable, still writes the line, never throws, and warns once, not once per event', async () => {
    const down = natsClient(`nats://127.0.0.1:${await deadPort()}`, app);
    const log = lines();
    const audit = new AuditLog(
      new AppLogger(createPino({ app, level: 'info', stream: log.stream })),
      new MetricsService(app),
      down,
    );
    try {
      const events: AuditEvent[] = [];
      for (let i = 0; i < 3; i++)
        expect(() =>
          events.push(
            audit.record({
              action: 'POST /join',
              decision: 'deny',
              reason: 'invalid_credential',
              request_id: `down-${i}`,
            }),
          ),
        ).not.toThrow();
      expect(log.parsed.filter((l) => l.audit).map((l) => l.audit)).toEqual(JSON.parse(JSON.stringify(events)));
      const warnings = () => log.parsed.filter((l) => l.context === 'AuditLog' && l.level === 40);
      await until(() => warnings().length > 0);
      await new Promise((r) => setTimeout(r, 200));
      expect(warnings()).toHaveLength(1);
      expect(String(warnings()[0].msg)).toMatch(/audit event not published/);
    } finally {
      await down.close();
    }
  });
});
