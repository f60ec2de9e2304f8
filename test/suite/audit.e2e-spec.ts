import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuditEventEnvelope, BotSessionEvent, Subjects } from '@portcullis/contracts';
import { appUrl } from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import { connect, NatsConnection, Subscription } from 'nats';
import { loadRoomGatewayConfig, startRoomGateway } from '../../apps/room-gateway/src';
import type { BotControlConfig } from '../../apps/bot-control/src';
import type { InterfaceProxyConfig } from '../../apps/interface-proxy/src';
import { runBotControl, runInterfaceProxy, Running } from '../support/apps';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from '../support/device-auth';
import { canary, NATS_URL } from '../support/env';
import { http, waitFor } from '../support/http';
import { LogCapture } from '../support/log-capture';

/** Collects what a plain NATS subscriber (any audit consumer) reads on one subject. */
function collect<T>(sub: Subscription): T[] {
  const seen: T[] = [];
  void (async () => {
    for await (const m of sub) seen.push(JSON.parse(new TextDecoder().decode(m.data)) as T);
  })();
  return seen;
}

describe('audit events: one format from every app, on NATS and in the JSON log', () => {
  const botSecret = canary('audit-bot');
  const run = `aud-${randomBytes(4).toString('hex')}`;
  const rid = (label: string) => `${run}-${label}`;
  let nc: NatsConnection;
  let audits: AuditEventEnvelope[];
  let botEvents: Array<{ pattern: string; data: BotSessionEvent }>;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  let bot: Running<BotControlConfig>;
  let proxy: Running<InterfaceProxyConfig>;
  let gw: NestFastifyApplication;
  let gwUrl: string;
  const gwLogs = new LogCapture();

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    audits = collect<AuditEventEnvelope>(nc.subscribe(Subjects.auditEvent));
    botEvents = collect(nc.subscribe(Subjects.botSessionStarted));
    await nc.flush();
    db = await createTestDatabase('audit');
    da = await startTestDeviceAuth({ databaseUrl: db.url });
    bot = await runBotControl({ NATS_URL, BOT_CONTROL_SHARED_SECRET: botSecret, BOT_CONTROL_AUTH_REQUIRED: '1' });
    proxy = await runInterfaceProxy({
      NATS_URL,
      BOT_CONTROL_BASE_URL: bot.url,
      BOT_CONTROL_SHARED_SECRET: botSecret,
      INTERFACE_AUTH_REQUIRED: '1',
      INTERFACE_JWKS_URL: `${da.url}/.well-known/jwks.json`,
      INTERFACE_JWT_ISSUER: da.cfg.issuer,
      INTERFACE_JWT_AUDIENCE: da.cfg.audience,
    });
    gw = await startRoomGateway(
      loadRoomGatewayConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        NATS_URL,
        ROOM_GATEWAY_KEY_PEPPER: canary('audit-pepper'),
      }),
      { logStream: gwLogs },
    );
    gwUrl = await appUrl(gw);
  });

  afterAll(async () => {
    const sessions = (await http('GET', `${bot.url}/sessions`)).body as Array<{ pid: number }>;
    for (const s of sessions)
      await http('DELETE', `${bot.url}/sessions/${s.pid}`, { headers: { 'x-bot-secret': botSecret } });
    await Promise.all([proxy?.close(), bot?.close(), gw?.close()]);
    await da?.close();
    await db?.drop();
    await nc?.close();
  });

  const ours = (id: string) => audits.map((a) => a.data).filter((e) => e.request_id === id);

  it('a device token from device-auth carries one request id through interface-proxy, bot-control and the bot event', async () => {
    const deviceId = uniqueDeviceId('audit');
    const { device_secret } = await da.register(deviceId);
    const token = (await da.authenticate(deviceId, device_secret)).body.access_token as string;
    const id = rid('join');
    const res = await http('POST', `${proxy.url}/api/bot/join`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': id },
      json: { room_url: `https://example.daily.co/${run}` },
    });
    expect(res.status).toBe(200);
    const seen = await waitFor(() => {
      const list = ours(id);
      return list.length >= 2 ? list : undefined;
    });
    expect(seen.map((e) => [e.app, e.decision, e.reason]).sort()).toEqual([
      ['bot-control', 'allow', 'ok'],
      ['interface-proxy', 'allow', 'ok'],
    ]);
    expect(seen.find((e) => e.app === 'interface-proxy')?.principal).toBe(deviceId);
    // The session event bot-control published on NATS names the same request.
    const started = await waitFor(() => botEvents.find((e) => e.data.request_id === id));
    expect(started.data.pid).toBe(res.body.pid);
    // The same events, in the same format, are the apps' JSON audit log lines.
    expect(proxy.logs.audits().find((a) => a.request_id === id)).toEqual(seen.find((e) => e.app === 'interface-proxy'));
    expect(bot.logs.audits().find((a) => a.request_id === id)).toEqual(seen.find((e) => e.app === 'bot-control'));
  });

  it('refusals of four apps reach one subscriber with reason codes and no secret', async () => {
    const wrongBot = canary('wrong-bot');
    const wrongAdmin = canary('wrong-admin');
    expect(
      (
        await http('POST', `${proxy.url}/api/bot/join`, {
          headers: { 'x-request-id': rid('p') },
          json: { room_url: 'https://example.daily.co/x' },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await http('POST', `${bot.url}/join`, {
          headers: { 'x-request-id': rid('b'), 'x-bot-secret': wrongBot },
          json: { room_url: 'https://example.daily.co/y' },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await da.call('GET', '/admin/devices', {
          headers: { 'x-request-id': rid('d'), 'x-portcullis-api-key': wrongAdmin },
        })
      ).status,
    ).toBe(401);
    const gwRes = await http('POST', `${gwUrl}/api/rooms/create`, {
      headers: { 'x-request-id': rid('g') },
      json: { profile: 'conversation' },
    });
    expect(gwRes.status).toBe(401);
    const events = await waitFor(() => {
      const list = ['p', 'b', 'd', 'g'].map((l) => ours(rid(l))[0]);
      return list.every(Boolean) ? list : undefined;
    });
    expect(events.map((e) => e.app)).toEqual(['interface-proxy', 'bot-control', 'device-auth', 'room-gateway']);
    for (const e of events) {
      expect(e.decision).toBe('deny');
      expect(e.reason).toMatch(/^[a-z_]+$/);
      expect(Object.keys(e).sort()).toEqual(
        expect.arrayContaining(['action', 'app', 'decision', 'reason', 'request_id', 'time']),
      );
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }
    expect(events[0].reason).toBe('missing_token');
    expect(events[2].reason).toBe('wrong_key');
    const wire = JSON.stringify(audits);
    for (const s of [wrongBot, wrongAdmin, botSecret, da.adminKey]) expect(wire).not.toContain(s);
    // The publisher counts what it published, per app, with bounded labels.
    const metrics = (await http('GET', `${bot.url}/metrics`)).text;
    expect(metrics).toMatch(/portcullis_audit_events_total\{[^}]*decision="deny"[^}]*\} [1-9]/);
  });
});
