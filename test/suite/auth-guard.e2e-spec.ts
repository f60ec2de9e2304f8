import { Controller, DynamicModule, Module } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Internal } from '@portcullis/auth';
import { appUrl, bootApp, bootOptionsFor } from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import { connect, JSONCodec, NatsConnection } from 'nats';
import WebSocket from 'ws';
import { BotControlModule, loadBotControlConfig } from '../../apps/bot-control/src';
import { EventsWsAdapter } from '../../apps/bot-control/src/events/events-ws.adapter';
import { DeviceAuthModule, loadDeviceAuthConfig } from '../../apps/device-auth/src';
import { InterfaceProxyModule, loadInterfaceProxyConfig } from '../../apps/interface-proxy/src';
import { loadRoomGatewayConfig, RoomGatewayModule } from '../../apps/room-gateway/src';
import { createTestDatabase } from '../support/device-auth';
import { canary, NATS_URL } from '../support/env';
import { http, waitFor } from '../support/http';
import { LogCapture } from '../support/log-capture';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = randomBytes(4).toString('hex');
const UNMARKED = `pc.test.${run}.unmarked`;
const INTERNAL = `pc.test.${run}.internal`;
const received: Record<string, string[]> = { unmarked: [], internal: [] };

/** A handler someone added without saying who may send it, beside one marked as a control-plane subscription. */
@Controller()
class ProbeHandlers {
  @EventPattern(UNMARKED)
  unmarked(@Payload() app: string): void {
    received.unmarked.push(app);
  }

  @Internal()
  @EventPattern(INTERNAL)
  internal(@Payload() app: string): void {
    received.internal.push(app);
  }
}

/** The app's real module, plus the probe handlers. */
function withProbe(app: DynamicModule): DynamicModule {
  @Module({})
  class ProbeRoot {}
  return { module: ProbeRoot, imports: [app], controllers: [ProbeHandlers] };
}

describe('the one guard covers NATS handlers, SSE and WebSocket upgrades in every app', () => {
  let nc: NatsConnection;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const apps: Array<{ name: string; app: NestFastifyApplication; url: string; logs: LogCapture }> = [];
  const codec = JSONCodec<{ pattern: string; data: string }>();

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    db = await createTestDatabase('authguard');
    const base = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'debug', NATS_URL };
    const boot = async (
      name: string,
      module: DynamicModule,
      cfg: Parameters<typeof bootOptionsFor>[0],
      logs: LogCapture,
    ) => {
      const app = await bootApp(withProbe(module), {
        ...bootOptionsFor(cfg),
        microservice: true,
        configure: (a) => void (name === 'bot-control' && a.useWebSocketAdapter(new EventsWsAdapter(a))),
      });
      apps.push({ name, app, url: await appUrl(app), logs });
    };
    const botLogs = new LogCapture();
    const bot = loadBotControlConfig({
      ...base,
      BOT_CONTROL_SHARED_SECRET: canary('guard-bot'),
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1',
    });
    await boot('bot-control', BotControlModule.forRoot(bot, { logStream: botLogs }), bot, botLogs);
    const daLogs = new LogCapture();
    const da = loadDeviceAuthConfig({
      ...base,
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      PORTCULLIS_DATA_DIR: mkdtempSync(join(tmpdir(), 'pc-guard-')),
      PORTCULLIS_ADMIN_API_KEY: canary('guard-admin'),
      DEVICE_AUTH_PEPPER: canary('guard-pepper'),
      DEVICE_AUTH_RATE_LIMIT_BUCKET: `pc_test_limits_${run}`,
    });
    await boot('device-auth', DeviceAuthModule.forRoot(da, { logStream: daLogs }), da, daLogs);
    const ipLogs = new LogCapture();
    const ip = loadInterfaceProxyConfig({ ...base, BOT_CONTROL_BASE_URL: apps[0].url });
    await boot('interface-proxy', InterfaceProxyModule.forRoot(ip, { logStream: ipLogs }), ip, ipLogs);
    const gwLogs = new LogCapture();
    const gw = loadRoomGatewayConfig({ ...base, ROOM_GATEWAY_KEY_PEPPER: canary('guard-pepper') });
    await boot('room-gateway', RoomGatewayModule.forRoot(gw, { logStream: gwLogs }), gw, gwLogs);
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.app.close();
    await db?.drop();
    await nc?.close();
  });

  const metrics = (url: string) => http('GET', `${url}/metrics`).then((r) => r.text);

  it('refuses a message handler without a mark in each app, and counts and audits the refusal; an @Internal() one runs', async () => {
    // One message each, in the envelope Nest's NATS transport puts on the wire for emit(); every app subscribes.
    nc.publish(UNMARKED, codec.encode({ pattern: UNMARKED, data: 'probe' }));
    nc.publish(INTERNAL, codec.encode({ pattern: INTERNAL, data: 'probe' }));
    await waitFor(() => received.internal.length === apps.length, 10_000);
    for (const { name, url, logs } of apps) {
      const text = await waitFor(async () => {
        const t = await metrics(url);
        return t.includes(`route="${UNMARKED}",decision="deny",reason="unmarked_route"`) ? t : undefined;
      }, 10_000);
      expect([name, text.includes(`route="${INTERNAL}",decision="allow",reason="internal"`)]).toEqual([name, true]);
      expect([
        name,
        logs
          .audits()
          .some((a) => a.action === `nats ${UNMARKED}` && a.decision === 'deny' && a.reason === 'unmarked_route'),
      ]).toEqual([name, true]);
    }
    expect(received.unmarked).toEqual([]);
    expect(received.internal).toEqual(apps.map(() => 'probe'));
  });

  it('bot-control: SSE and the WebSocket upgrade go through the guard', async () => {
    const bot = apps[0];
    expect((await http('GET', `${bot.url}/events`)).status).toBe(401);
    const closed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${bot.url.replace('http', 'ws')}/ws/events`);
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => undefined);
    });
    expect(closed).toBe(1008);
    const text = await metrics(bot.url);
    expect(text).toMatch(
      /portcullis_auth_decisions_total\{[^}]*route="\/events",decision="deny",reason="missing_credential"\} 1/,
    );
    expect(text).toMatch(
      /portcullis_auth_decisions_total\{[^}]*route="\/ws\/events",decision="deny",reason="missing_credential"\} 1/,
    );
    const actions = bot.logs
      .audits()
      .filter((a) => a.decision === 'deny')
      .map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['GET /events', 'ws /ws/events']));
  });

  it('an allowed read is on its request line (principal, decision, reason), not an audit event', async () => {
    const da = apps[1];
    const before = da.logs.audits().length;
    const jwks = await http('GET', `${da.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    const line = await waitFor(() =>
      da.logs
        .parsed()
        .find((l) => l.msg === 'request completed' && (l.req as { url?: string })?.url === '/.well-known/jwks.json'),
    );
    expect(line.auth).toEqual({ decision: 'public' });
    const refused = await http('GET', `${da.url}/admin/devices`);
    expect(refused.status).toBe(401);
    const refusedLine = await waitFor(() =>
      da.logs
        .parsed()
        .find((l) => l.msg === 'request completed' && (l.req as { url?: string })?.url === '/admin/devices'),
    );
    expect(refusedLine.auth).toEqual({ decision: 'deny', reason: 'missing_key' });
    expect(
      da.logs
        .audits()
        .slice(before)
        .map((a) => [a.action, a.decision, a.reason]),
    ).toEqual([['GET /admin/devices', 'deny', 'missing_key']]);
  });
});
