import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { signRequest } from '@portcullis/auth';
import { appUrl } from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import { loadRoomGatewayConfig, startRoomGateway } from '../../apps/room-gateway/src';
import type { BotControlConfig } from '../../apps/bot-control/src';
import { runBotControl, Running } from '../support/apps';
import {
  createTestDatabase,
  randomClientIp,
  RunningDeviceAuth,
  startTestDeviceAuth,
  uniqueDeviceId,
} from '../support/device-auth';
import { canary } from '../support/env';
import { FakeDaily } from '../support/fake-providers';
import { http, HttpResult, waitFor } from '../support/http';
import { LogCapture } from '../support/log-capture';
import { NatsServer } from '../support/nats-server';

/**
 * device-auth, bot-control (signed requests, nonces in JetStream, device tokens)
 * and room-gateway (BYOK rate limits) against a NATS server of their own, which
 * is killed, stopped and restarted under them while they keep serving.
 */
describe('NATS outages and restarts under running apps', () => {
  let nats: NatsServer;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  let bot: Running<BotControlConfig>;
  let rg: NestFastifyApplication;
  let rgUrl: string;
  const rgLogs = new LogCapture();
  const botSecret = canary('bot-secret');
  const providerKey = canary('daily-key');
  const daily = new FakeDaily([providerKey]);
  const issuer = `fault-issuer-${randomBytes(4).toString('hex')}`;

  /** Everything the light background load saw, by app. */
  const seen: Record<string, number[]> = { 'device-auth': [], 'bot-control': [], 'room-gateway': [] };
  let loading = false;
  let load: Promise<void> | undefined;

  const signedLeave = (headers?: Record<string, string>) => {
    const path = `/sessions/${900000 + Math.floor(Math.random() * 99999)}/leave`;
    const h = headers ?? signRequest(botSecret, { method: 'POST', pathWithQuery: path, body: '' });
    return { headers: h, send: (p = path) => http('POST', `${bot.url}${p}`, { headers: h }) };
  };
  const createRoom = (from = randomClientIp()) =>
    http('POST', `${rgUrl}/api/rooms/create`, {
      headers: { 'x-provider-auth': `Bearer ${providerKey}`, 'x-forwarded-for': from },
      json: { profile: 'conversation' },
    });
  const unknownDeviceAuth = () =>
    http('POST', `${da.url}/device/auth`, {
      headers: { 'x-forwarded-for': randomClientIp() },
      json: { device_id: uniqueDeviceId('load'), device_secret: 'not-a-secret-of-any-device' },
    });
  const ready = async (url: string) => (await http('GET', `${url}/health/ready`)).status;
  const urls = () => [da.url, bot.url, rgUrl];

  const expectOutage = (r: HttpResult) => {
    expect(r.status).toBe(503);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.body).toEqual({ detail: expect.stringContaining('unavailable') });
  };

  beforeAll(async () => {
    nats = await NatsServer.start();
    db = await createTestDatabase('nats_faults');
    await daily.start();
    da = await startTestDeviceAuth({
      databaseUrl: db.url,
      env: { NATS_URL: nats.url, DEVICE_AUTH_ISSUER: issuer, DEVICE_AUTH_RATE_LIMIT_BUCKET: 'pc_fault_device_limits' },
    });
    bot = await runBotControl({
      NATS_URL: nats.url,
      BOT_CONTROL_SHARED_SECRET: botSecret,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_SIGNATURE_REQUIRED: '1',
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1',
      DEVICE_AUTH_URL: da.url,
      DEVICE_AUTH_ISSUER: issuer,
      DEVICE_AUTH_AUDIENCE: da.cfg.audience,
    });
    rg = await startRoomGateway(
      loadRoomGatewayConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        NATS_URL: nats.url,
        TRUSTED_PROXIES: '127.0.0.1',
        DAILY_API_BASE_URL: daily.baseUrl,
        ROOM_GATEWAY_RATE_LIMIT_PER_KEY: '100000',
        ROOM_GATEWAY_RATE_LIMIT_PER_IP: '3',
        ROOM_GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '600',
      }),
      { logStream: rgLogs },
    );
    rgUrl = await appUrl(rg);
    for (const u of urls()) await waitFor(async () => (await ready(u)) === 200, 10000);

    // Light load on all three for the whole file: whatever NATS does, no answer is a 500.
    loading = true;
    // One loop per app, so a slow answer from one does not starve the others of load.
    const loop = async (app: string, send: () => Promise<{ status: number }>) => {
      while (loading) {
        const r = await send().then(
          (res) => res.status,
          () => 0,
        );
        // 0: no answer at all (a reset or a hang), which is as bad as a 500.
        seen[app].push(r);
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    load = Promise.all([
      loop('device-auth', unknownDeviceAuth),
      loop('bot-control', () => signedLeave().send()),
      loop('room-gateway', createRoom),
    ]).then(() => undefined);
  });

  afterAll(async () => {
    loading = false;
    await load;
    await rg?.close();
    await bot?.close();
    await da?.close();
    await daily.stop();
    await db?.drop();
    await nats?.close();
  });

  /** Each app answers its NATS-backed request normally again, and says it is ready. */
  async function recovered(): Promise<void> {
    await waitFor(async () => (await Promise.all(urls().map(ready))).every((s) => s === 200), 20000, 100);
    await waitFor(async () => (await unknownDeviceAuth()).status === 401, 10000, 100);
    await waitFor(async () => (await signedLeave().send()).status === 404, 10000, 100);
    await waitFor(async () => (await createRoom()).status === 200, 10000, 100);
  }

  it('answers 503 with Retry-After while NATS is killed, and recovers on its own with nothing lost', async () => {
    // Before: a device with a token another app accepts, a spent nonce, counts in flight.
    const revokedId = uniqueDeviceId('fault_rev');
    const keptId = uniqueDeviceId('fault_keep');
    const revokedSecret = (await da.register(revokedId)).device_secret;
    const keptSecret = (await da.register(keptId)).device_secret;
    const revokedToken = (await da.authenticate(revokedId, revokedSecret)).body.access_token as string;
    const keptToken = (await da.authenticate(keptId, keptSecret)).body.access_token as string;
    const sessionsWith = (token: string) =>
      http('GET', `${bot.url}/sessions`, { headers: { authorization: `Bearer ${token}` } });
    await waitFor(async () => (await sessionsWith(revokedToken)).status === 200, 10000);
    expect((await sessionsWith(keptToken)).status).toBe(200);

    const spent = signedLeave();
    expect((await spent.send()).status).toBe(404);
    expect((await spent.send()).status).toBe(401);

    const limited = randomClientIp();
    expect((await createRoom(limited)).status).toBe(200);
    expect((await createRoom(limited)).status).toBe(200);

    await nats.kill9();

    // During: an outage, not an error and not a bad credential.
    await waitFor(async () => (await Promise.all(urls().map(ready))).every((s) => s === 503), 10000, 50);
    expectOutage(await da.authenticate(keptId, keptSecret));
    expectOutage(await signedLeave().send());
    expectOutage(await createRoom());
    const readiness = await http('GET', `${bot.url}/health/ready`);
    expect(readiness.body.details.nats.status).toBe('down');
    // A revocation made while NATS is down: the database takes it; other apps must honour it once NATS is back.
    expect((await da.admin('POST', `/admin/devices/${revokedId}/revoke`)).status).toBe(200);

    await nats.restart();
    await recovered();

    // After: the revocation reached bot-control, the spent nonce stays spent, the counts survived.
    await waitFor(async () => (await sessionsWith(revokedToken)).status === 401, 10000, 100);
    expect((await sessionsWith(keptToken)).status).toBe(200);
    expect((await spent.send()).status).toBe(401);
    expect((await createRoom(limited)).status).toBe(200);
    expect((await createRoom(limited)).status).toBe(429);
    expect((await da.authenticate(keptId, keptSecret)).status).toBe(200);
  });

  it('recovers after a graceful restart onto an empty store, every bucket gone', async () => {
    await nats.stop();
    await waitFor(async () => (await Promise.all(urls().map(ready))).every((s) => s === 503), 10000, 50);
    expectOutage(await createRoom());
    await nats.restart({ emptyStore: true });
    await recovered();
    // The buckets were created anew, on disk.
    const readiness = await http('GET', `${da.url}/health/ready`);
    expect(readiness.body.details.nats).toEqual({
      status: 'up',
      transport: 'nats',
      buckets: { pc_fault_device_limits: 'up' },
    });
    const spent = signedLeave();
    expect((await spent.send()).status).toBe(404);
    expect((await spent.send()).status).toBe(401);
  });

  it('never answered 500 under load, through both outages', async () => {
    // Outages now answer fast, so on a busy machine the load may not have sent much yet: let it run on.
    await waitFor(async () => Object.values(seen).every((statuses) => statuses.length > 10), 15000, 100);
    for (const [app, statuses] of Object.entries(seen)) {
      expect({ app, errors: statuses.filter((s) => s === 0 || (s >= 500 && s !== 503)) }).toEqual({ app, errors: [] });
      expect({ app, count: statuses.length > 10 }).toEqual({ app, count: true });
      // The outage showed as 503 to the load, too.
      expect({ app, saw503: statuses.includes(503) }).toEqual({ app, saw503: true });
    }
    for (const s of [botSecret, providerKey]) {
      expect(bot.logs.text + da.logs.text + rgLogs.text).not.toContain(s);
    }
  });
});
