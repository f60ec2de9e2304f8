/**
 * /metrics of every app after a known run of allowed and refused requests: the counts match the run, no
 * secret or credential shows up, and every label value comes from a small fixed set (route patterns and
 * reason codes, never pids, device ids, addresses or request ids).
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { appUrl } from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import { loadRoomGatewayConfig, startRoomGateway } from '../../apps/room-gateway/src';
import type { BotControlConfig } from '../../apps/bot-control/src';
import type { InterfaceProxyConfig } from '../../apps/interface-proxy/src';
import { runBotControl, runInterfaceProxy, Running } from '../support/apps';
import {
  createTestDatabase,
  randomClientIp,
  RunningDeviceAuth,
  startTestDeviceAuth,
  uniqueDeviceId,
} from '../support/device-auth';
import { canary, NATS_URL } from '../support/env';
import { FakeDaily } from '../support/fake-providers';
import { http } from '../support/http';
import { LogCapture } from '../support/log-capture';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not exposition format: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of one series (0 when absent), matched on the labels given. */
function value(all: Sample[], name: string, labels: Record<string, string>): number {
  return all
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('/metrics after allowed and refused requests', () => {
  const botSecret = canary('metrics-bot');
  const wrongSecret = canary('metrics-wrong');
  const providerKey = canary('metrics-provider');
  const badProviderKey = canary('metrics-bad-provider');
  const gwPepper = canary('metrics-gw-pepper');
  const daily = new FakeDaily([providerKey]);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  let bot: Running<BotControlConfig>;
  let proxy: Running<InterfaceProxyConfig>;
  let gw: NestFastifyApplication;
  let gwUrl: string;
  const scraped: Record<string, { text: string; samples: Sample[] }> = {};
  const secrets: string[] = [botSecret, wrongSecret, providerKey, badProviderKey, gwPepper];
  const ids: string[] = [];

  beforeAll(async () => {
    await daily.start();
    db = await createTestDatabase('metrics');
    da = await startTestDeviceAuth({ databaseUrl: db.url, env: { DEVICE_AUTH_RATE_LIMIT: '3' } });
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
        TRUSTED_PROXIES: '127.0.0.1',
        DAILY_API_BASE_URL: daily.baseUrl,
        ROOM_GATEWAY_KEY_PEPPER: gwPepper,
        ROOM_GATEWAY_RATE_LIMIT_PER_KEY: '2',
      }),
      { logStream: new LogCapture() },
    );
    gwUrl = await appUrl(gw);

    // --- the run ---
    // device-auth: one device, one good sign-in, two wrong secrets, then over the limit of 3 per device.
    const deviceId = uniqueDeviceId('metrics');
    ids.push(deviceId);
    const { device_secret } = await da.register(deviceId);
    secrets.push(device_secret, da.adminKey);
    const signedIn = await da.authenticate(deviceId, device_secret);
    expect(signedIn.status).toBe(200);
    const token = signedIn.body.access_token as string;
    secrets.push(token);
    for (let i = 0; i < 2; i++) expect((await da.authenticate(deviceId, 'ds_wrong')).status).toBe(401);
    expect((await da.authenticate(deviceId, device_secret)).status).toBe(429);

    // interface-proxy: one caller with the device token (which also joins a bot), one without, one with junk.
    const requestId = `metrics-${randomBytes(6).toString('hex')}`;
    ids.push(requestId);
    const room = (tag: string) => ({
      room_url: `https://example.daily.co/metrics-${tag}-${randomBytes(3).toString('hex')}`,
    });
    const joined = await http('POST', `${proxy.url}/api/bot/join`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId },
      json: room('proxy'),
    });
    expect(joined.status).toBe(200);
    expect((await http('POST', `${proxy.url}/api/bot/join`, { json: room('x') })).status).toBe(401);
    expect(
      (
        await http('POST', `${proxy.url}/api/bot/join`, {
          headers: { authorization: 'Bearer not.a.jwt' },
          json: room('y'),
        })
      ).status,
    ).toBe(401);

    // bot-control directly: one more good join, one missing and two wrong credentials, one leave by pid.
    const direct = await http('POST', `${bot.url}/join`, {
      headers: { 'x-bot-secret': botSecret },
      json: room('direct'),
    });
    expect(direct.status).toBe(200);
    expect((await http('POST', `${bot.url}/join`, { json: room('a') })).status).toBe(401);
    expect(
      (await http('POST', `${bot.url}/join`, { headers: { 'x-bot-secret': wrongSecret }, json: room('b') })).status,
    ).toBe(401);
    expect(
      (await http('POST', `${bot.url}/join`, { headers: { authorization: `Bearer ${wrongSecret}` }, json: room('c') }))
        .status,
    ).toBe(401);
    for (const pid of [joined.body.pid, direct.body.pid]) {
      ids.push(String(pid));
      expect(
        (await http('POST', `${bot.url}/sessions/${pid}/leave`, { headers: { 'x-bot-secret': botSecret } })).status,
      ).toBeLessThan(300);
    }

    // room-gateway: no key, a key the provider refuses, two good calls, then the per-key limit of 2.
    const create = (key?: string) =>
      http('POST', `${gwUrl}/api/rooms/create`, {
        headers: { 'x-forwarded-for': randomClientIp(), ...(key ? { 'x-provider-auth': `Bearer ${key}` } : {}) },
        json: { profile: 'conversation' },
      });
    expect((await create()).status).toBe(401);
    expect((await create(badProviderKey)).status).toBeGreaterThanOrEqual(400);
    expect((await create(providerKey)).status).toBe(200);
    expect((await create(providerKey)).status).toBe(200);
    expect((await create(providerKey)).status).toBe(429);

    for (const [app, url] of [
      ['device-auth', da.url],
      ['interface-proxy', proxy.url],
      ['bot-control', bot.url],
      ['room-gateway', gwUrl],
    ]) {
      const res = await http('GET', `${url}/metrics`);
      expect(res.status).toBe(200);
      scraped[app] = { text: res.text, samples: samples(res.text) };
    }
  }, 60000);

  afterAll(async () => {
    await Promise.all([proxy?.close(), bot?.close(), gw?.close()]);
    await da?.close();
    await db?.drop();
    await daily.stop();
  });

  const decisions = (app: string, labels: Record<string, string>) =>
    value(scraped[app].samples, 'portcullis_auth_decisions_total', { app, ...labels });
  const audits = (app: string, labels: Record<string, string>) =>
    value(scraped[app].samples, 'portcullis_audit_events_total', { app, ...labels });

  it('bot-control counts its decisions by route pattern and reason', () => {
    expect(decisions('bot-control', { route: '/join', decision: 'allow', reason: 'ok' })).toBe(2);
    expect(decisions('bot-control', { route: '/join', decision: 'deny', reason: 'missing_credential' })).toBe(1);
    expect(decisions('bot-control', { route: '/join', decision: 'deny', reason: 'invalid_credential' })).toBe(2);
    expect(decisions('bot-control', { route: '/sessions/:pid/leave', decision: 'allow', reason: 'ok' })).toBe(2);
    expect(audits('bot-control', { decision: 'deny' })).toBe(3);
  });

  it('interface-proxy counts callers allowed and refused', () => {
    expect(decisions('interface-proxy', { route: '/api/bot/join', decision: 'allow', reason: 'ok' })).toBe(1);
    expect(decisions('interface-proxy', { route: '/api/bot/join', decision: 'deny', reason: 'missing_token' })).toBe(1);
    expect(decisions('interface-proxy', { route: '/api/bot/join', decision: 'deny' })).toBe(2);
  });

  it('room-gateway counts key decisions and the throttled call', () => {
    expect(decisions('room-gateway', { route: '/api/rooms/create', decision: 'deny', reason: 'missing_key' })).toBe(1);
    expect(
      decisions('room-gateway', { route: '/api/rooms/create', decision: 'deny', reason: 'provider_rejected' }),
    ).toBe(1);
    // The key check (is a well-formed key present) comes before the provider and the limit: the refused key
    // and the throttled call passed it too.
    expect(decisions('room-gateway', { route: '/api/rooms/create', decision: 'allow', reason: 'key_present' })).toBe(4);
    expect(
      value(scraped['room-gateway'].samples, 'portcullis_throttled_requests_total', { route: '/api/rooms/create' }),
    ).toBe(1);
  });

  it('device-auth counts sign-ins through its audit events, and the throttled attempt', () => {
    expect(audits('device-auth', { action: 'device.auth', decision: 'allow' })).toBe(1);
    // Two wrong secrets, and the throttled attempt (the first of its window is audited).
    expect(audits('device-auth', { action: 'device.auth', decision: 'deny' })).toBe(3);
    expect(
      value(scraped['device-auth'].samples, 'portcullis_throttled_requests_total', { route: '/device/auth' }),
    ).toBe(1);
  });

  it('every app exposes the suite metrics: latency histograms, NATS state, revocations, throttling', () => {
    for (const [app, { text, samples: all }] of Object.entries(scraped)) {
      for (const name of [
        'portcullis_auth_decisions_total',
        'portcullis_http_request_duration_seconds',
        'portcullis_throttled_requests_total',
        'portcullis_revocations_received_total',
        'portcullis_nats_connected',
        'portcullis_audit_events_total',
      ]) {
        expect([app, text.includes(`# TYPE ${name} `)]).toEqual([app, true]);
      }
      expect(value(all, 'portcullis_nats_connected', { app })).toBe(1);
    }
    const latency = (app: string, route: string) =>
      value(scraped[app].samples, 'portcullis_http_request_duration_seconds_count', { app, route });
    expect(latency('bot-control', '/join')).toBeGreaterThanOrEqual(2);
    expect(latency('interface-proxy', '/api/bot/join')).toBeGreaterThanOrEqual(1);
    expect(latency('room-gateway', '/api/rooms/create')).toBeGreaterThanOrEqual(2);
    expect(latency('device-auth', '/device/auth')).toBeGreaterThanOrEqual(1);
  });

  it('holds no secret, token or per-request value, and only bounded labels', () => {
    const all = Object.values(scraped)
      .map((s) => s.text)
      .join('\n');
    for (const s of secrets) expect(all).not.toContain(s);
    for (const id of ids) expect(all).not.toContain(`"${id}`);
    const allowedLabels = new Set([
      'app',
      'route',
      'decision',
      'reason',
      'action',
      'method',
      'status',
      'le',
      'version',
      'major',
      'minor',
      'patch',
      'space',
      'kind',
      'type',
    ]);
    for (const { samples: list } of Object.values(scraped)) {
      for (const s of list) {
        for (const [k, v] of Object.entries(s.labels)) {
          expect([s.name, k, allowedLabels.has(k)]).toEqual([s.name, k, true]);
          // An HTTP route pattern, or the subject of a NATS handler (other files on the shared NATS revoke devices).
          if (k === 'route') expect(v).toMatch(/^(\/[a-z0-9._-]*|\/:[a-z]+)+$|^unmatched$|^[a-z]+(\.[a-z_-]+)+$/i);
          if (k === 'reason') expect(v).toMatch(/^[a-z_N]+$/);
          if (k === 'decision') expect(['allow', 'deny', 'would_deny']).toContain(v);
          expect(v).not.toMatch(/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/);
          for (const id of ids) expect(v).not.toContain(id);
        }
      }
    }
    // A pid in a path is a pattern in the label, not the number.
    expect(all).toContain('route="/sessions/:pid/leave"');
  });
});
