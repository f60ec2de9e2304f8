import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { appUrl, httpRoutes } from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import { loadRoomGatewayConfig, startRoomGateway } from '../../apps/room-gateway/src';
import { runBotControl, runInterfaceProxy, Running } from '../support/apps';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth } from '../support/device-auth';
import { canary, NATS_URL } from '../support/env';
import { FakeDaily } from '../support/fake-providers';
import { http, waitFor } from '../support/http';
import { LogCapture } from '../support/log-capture';
import { RawAnswer, rawExchange, rawRequest } from '../support/raw-http';

/**
 * Every HTTP route of every app, taken from the apps' own route tables, fed input no client
 * should send. The edge must refuse it with a 4xx whose body is `{"detail": "<string>"}`, never
 * a 5xx, and the app must keep answering. Each case goes once without credentials and once with
 * the credentials the route family takes, so the body reaches validation behind the guards.
 */

// Short body/header timeouts, so a request that lies about its length is cut off quickly.
const EDGE_ENV = { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_BODY_TIMEOUT_MS: '1500' };
const DAILY_KEY = canary('daily');
const BOT_SECRET = canary('bot-secret');

interface Target {
  name: string;
  app: NestFastifyApplication;
  port: number;
  /** Fresh credentials for the next route (the dashboard's sign-out route ends a session). */
  creds: () => Promise<Record<string, string>>;
}

interface Case {
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** The request as bytes, when no request built from the fields above can say it. */
  raw?: Buffer;
  end?: boolean;
}

const JSON_CT = { 'Content-Type': 'application/json' };
const SURROGATE_BYTES = Buffer.from([0xed, 0xa0, 0x80]);
const deepObject = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
const deepArray = '['.repeat(5000) + ']'.repeat(5000);
const huge = `{"device_id":"${'x'.repeat(1_100_000)}"}`;

function fill(url: string, value: string): string {
  return url.replace(/:[A-Za-z0-9_]+/g, value).replace(/\*/g, value);
}

function bodyCases(method: string, path: string): Case[] {
  const json = (label: string, body: Buffer | string): Case => ({ label, method, path, headers: JSON_CT, body });
  return [
    json('malformed JSON', '{"device_id":'),
    json('JSON nested 5000 deep (objects)', deepObject),
    json('JSON nested 5000 deep (arrays)', deepArray),
    json('duplicate keys', '{"device_id":"a","device_id":"b","customer_id":"c"}'),
    json(
      'NUL in a string',
      '{"device_id":"pi\\u0000x","customer_id":"c\\u0000","name":"n\\u0000","room_url":"https://x.daily.co/a\\u0000","api_key":"k\\u0000"}',
    ),
    json('NUL in one string of an otherwise valid body', '{"device_id":"pi_ok","customer_id":"c\\u0000","name":"n"}'),
    json('NUL in a key', '{"device\\u0000id":"a"}'),
    json('lone surrogate (JSON escape)', '{"device_id":"\\ud800","call_id":"\\udfff","api_key":"\\ud800"}'),
    json(
      'lone surrogate (raw bytes)',
      Buffer.concat([
        Buffer.from('{"device_id":"'),
        SURROGATE_BYTES,
        Buffer.from('","call_id":"'),
        SURROGATE_BYTES,
        Buffer.from('"}'),
      ]),
    ),
    json('empty JSON body', ''),
    json('body over the limit', huge),
    { label: 'text/plain body', method, path, headers: { 'Content-Type': 'text/plain' }, body: 'device_id=a' },
    {
      label: 'form body',
      method,
      path,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'device_id=a&customer_id=b',
    },
    { label: 'xml body', method, path, headers: { 'Content-Type': 'application/xml' }, body: '<a/>' },
    {
      label: 'Content-Length larger than the body, then EOF',
      method,
      path,
      headers: { ...JSON_CT, 'Content-Length': 100 },
      body: '{"a',
      end: true,
    },
    {
      label: 'Content-Length smaller than the body',
      method,
      path,
      headers: { ...JSON_CT, 'Content-Length': 2 },
      body: '{"device_id":"a"}',
    },
    {
      label: 'Content-Length not a number',
      method,
      path,
      headers: { ...JSON_CT, 'Content-Length': 'abc' },
      body: '{}',
    },
  ];
}

function paramCases(method: string, url: string): Case[] {
  if (!/[:*]/.test(url)) return [];
  return [
    'x%00y',
    '%00',
    '%ED%A0%80',
    '%E0%A4%A',
    '%FF',
    'a'.repeat(2000),
    '..%2F..%2Fetc',
    '%20',
    '-1',
    'ok%F0%9F%98%80',
  ].map((v) => ({
    label: `path parameter ${v.length > 40 ? `${v.slice(0, 8)}… (${v.length})` : v}`,
    method,
    path: fill(url, v),
  }));
}

function queryCases(method: string, path: string): Case[] {
  return [
    'customer_id=c%00',
    'q=x%00y',
    'q=x%00y&device_id=%00&customer_id=%00',
    'q=%ED%A0%80&status=%ED%A0%80',
    'x%00=1',
    'q=%E0%A4%A',
    'limit=-1&offset=abc&q[a][b]=1',
    `q=${'a'.repeat(5000)}`,
  ].map((q) => ({
    label: `query ${q.length > 40 ? `${q.slice(0, 8)}… (${q.length})` : q}`,
    method,
    path: `${path}?${q}`,
  }));
}

function headerCases(method: string, path: string, creds: Record<string, string>): Case[] {
  const withHeader = (label: string, line: string): Case => {
    const req = rawRequest(method, path, creds)
      .toString('latin1')
      .replace('Connection: close\r\n', `Connection: close\r\n${line}\r\n`);
    return { label, method, path, raw: Buffer.from(req, 'latin1') };
  };
  return [
    withHeader('NUL in a header', 'X-Test: a\u0000b'),
    withHeader('NUL in Authorization', 'Authorization: Bearer a\u0000b'),
    withHeader('raw surrogate bytes in a header', `X-Request-Id: ${SURROGATE_BYTES.toString('latin1')}`),
    withHeader('header over 16 KiB', `X-Big: ${'a'.repeat(20_000)}`),
    withHeader('header line without a colon', 'this is not a header'),
  ];
}

describe('bad input on every HTTP route of every app', () => {
  const daily = new FakeDaily([DAILY_KEY]);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deviceAuth: RunningDeviceAuth;
  let gateway: NestFastifyApplication;
  let bot: Running<unknown>;
  let proxy: Running<unknown>;
  let targets: Target[];
  let deviceToken: string;

  beforeAll(async () => {
    db = await createTestDatabase('badinput');
    await daily.start();
    const issuer = `pc-test-badinput-${randomBytes(4).toString('hex')}`;
    deviceAuth = await startTestDeviceAuth({
      databaseUrl: db.url,
      env: { DEVICE_AUTH_ISSUER: issuer, DEVICE_AUTH_RATE_LIMIT: '100000', LOG_LEVEL: 'warn', ...EDGE_ENV },
    });
    const gwLogs = new LogCapture();
    gateway = await startRoomGateway(
      loadRoomGatewayConfig({
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        NATS_URL,
        DATABASE_URL: db.url,
        DEVICE_AUTH_URL: deviceAuth.url,
        DEVICE_AUTH_ISSUER: issuer,
        ROOM_GATEWAY_KEY_PEPPER: canary('pepper'),
        PORTCULLIS_ADMIN_API_KEY: deviceAuth.adminKey,
        DAILY_API_BASE_URL: daily.baseUrl,
        ROOM_GATEWAY_RATE_LIMIT_PER_KEY: '1000000',
        ROOM_GATEWAY_RATE_LIMIT_PER_IP: '1000000',
        ...EDGE_ENV,
      }),
      { logStream: gwLogs },
    );
    const gwUrl = await appUrl(gateway);
    bot = await runBotControl({
      NATS_URL,
      LOG_LEVEL: 'warn',
      BOT_CONTROL_SHARED_SECRET: BOT_SECRET,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1',
      ...EDGE_ENV,
    });
    proxy = await runInterfaceProxy({
      LOG_LEVEL: 'warn',
      BOT_CONTROL_BASE_URL: bot.url,
      BOT_CONTROL_SHARED_SECRET: BOT_SECRET,
      PORTCULLIS_ADMIN_API_KEY: deviceAuth.adminKey,
      DEVICE_AUTH_URL: deviceAuth.url,
      ROOM_GATEWAY_BASE_URL: gwUrl,
      ...EDGE_ENV,
    });

    const deviceId = `pi_badinput_${randomBytes(4).toString('hex')}`;
    const { device_secret } = await deviceAuth.register(deviceId);
    deviceToken = (await deviceAuth.authenticate(deviceId, device_secret)).body.access_token;
    // room-gateway accepts device tokens once device-auth's revocation snapshot has arrived.
    await waitFor(
      async () =>
        (await http('GET', `${gwUrl}/signaling/rooms`, { headers: { authorization: `Bearer ${deviceToken}` } }))
          .status === 200,
      15000,
      100,
    );
    const dashboardSession = async (): Promise<Record<string, string>> => {
      const signIn = await http('POST', `${proxy.url}/dashboard/api/session`, {
        json: { api_key: deviceAuth.adminKey },
      });
      if (signIn.status !== 200) throw new Error(`dashboard sign-in: ${signIn.status} ${signIn.text}`);
      return { Cookie: String(signIn.headers.get('set-cookie')).split(';')[0], 'X-CSRF-Token': signIn.body.csrf_token };
    };
    const fixed = (h: Record<string, string>) => async () => h;

    const port = (u: string): number => Number(new URL(u).port);
    targets = [
      {
        name: 'device-auth',
        app: deviceAuth.app,
        port: port(deviceAuth.url),
        creds: fixed({ 'X-Portcullis-API-Key': deviceAuth.adminKey, Authorization: `Bearer ${deviceToken}` }),
      },
      {
        name: 'room-gateway',
        app: gateway,
        port: port(gwUrl),
        creds: fixed({
          'X-Portcullis-API-Key': deviceAuth.adminKey,
          Authorization: `Bearer ${deviceToken}`,
          'X-Provider-Auth': `Bearer ${DAILY_KEY}`,
          'X-Provider': 'daily',
        }),
      },
      {
        name: 'bot-control',
        app: bot.app,
        port: port(bot.url),
        creds: fixed({ Authorization: `Bearer ${BOT_SECRET}` }),
      },
      { name: 'interface-proxy', app: proxy.app, port: port(proxy.url), creds: dashboardSession },
    ];
  });

  afterAll(async () => {
    await proxy?.close();
    await bot?.close();
    await gateway?.close();
    await deviceAuth?.close();
    await daily.stop();
    await db?.drop();
  });

  /** What is wrong with an answer to bad input, if anything. */
  function fault(a: RawAnswer): string | undefined {
    if (a.stream) return a.status === 200 ? undefined : `stream with ${a.status}`;
    if (a.status === 0) return `no answer (${a.closed ? 'connection closed' : 'still waiting'})`;
    if (a.status >= 500) return `${a.status} ${a.body.slice(0, 120)}`;
    if (a.status >= 400) {
      if (!(a.headers['content-type'] ?? '').startsWith('application/json'))
        return `${a.status} with content-type ${a.headers['content-type']}`;
      try {
        const parsed = JSON.parse(a.body) as { detail?: unknown };
        // room-gateway's BYOK routes answer validation errors in FastAPI's shape: 422 with a list of {loc, msg, type}.
        const fastApi =
          a.status === 422 && Array.isArray(parsed.detail) && parsed.detail.every((d) => typeof d?.msg === 'string');
        if (typeof parsed.detail !== 'string' && !fastApi)
          return `${a.status} without a string detail: ${a.body.slice(0, 120)}`;
      } catch {
        return `${a.status} with a body that is not JSON: ${a.body.slice(0, 120)}`;
      }
    }
    return undefined;
  }

  function send(t: Target, c: Case, creds: Record<string, string>): Promise<RawAnswer> {
    const bytes = c.raw ?? rawRequest(c.method, c.path, { ...creds, ...(c.headers ?? {}) }, c.body);
    return rawExchange(t.port, bytes, { end: c.end, timeoutMs: 6000 });
  }

  it('takes the routes from the apps themselves, and they include the known ones', () => {
    const all = targets.flatMap((t) => httpRoutes(t.app).map((r) => `${t.name} ${r.method} ${r.url}`));
    expect(all.length).toBeGreaterThan(60);
    expect(all).toEqual(
      expect.arrayContaining([
        'device-auth POST /device/auth',
        'device-auth POST /admin/devices/:id/rotate-secret',
        'device-auth POST /vapi/stop',
        'interface-proxy POST /dashboard/api/session',
        'interface-proxy GET /api/bot/events',
        'bot-control GET /events',
        'bot-control POST /join',
        'room-gateway POST /signaling/rooms/:room_id/tokens',
        'room-gateway POST /api/rooms/create',
      ]),
    );
  });

  it('answers every case on every route with a 4xx {"detail"} (or success), never a 5xx, and stays up', async () => {
    const faults: string[] = [];
    let sent = 0;
    await Promise.all(
      targets.map(async (t) => {
        const routes = httpRoutes(t.app).filter((r) => r.method !== 'HEAD');
        for (const r of routes) {
          const path = fill(r.url, 'probe1');
          const cases = [...bodyCases(r.method, path), ...paramCases(r.method, r.url), ...queryCases(r.method, path)];
          for (const authenticated of [false, true]) {
            const creds = authenticated ? await t.creds() : {};
            for (const c of [...cases, ...headerCases(r.method, path, creds)]) {
              const a = await send(t, c, creds);
              sent++;
              const f = fault(a);
              if (f)
                faults.push(
                  `${t.name} ${r.method} ${r.url} [${c.label}${authenticated ? ', with credentials' : ''}]: ${f}`,
                );
            }
            const health = await rawExchange(t.port, rawRequest('GET', '/health', {}));
            if (health.status !== 200)
              faults.push(`${t.name}: /health answered ${health.status} after ${r.method} ${r.url}`);
          }
        }
      }),
    );
    expect(faults).toEqual([]);
    expect(sent).toBeGreaterThan(3000);
  });

  it('refuses bad bodies on the unauthenticated sign-in routes with the reason', async () => {
    const da = targets[0];
    const ip = targets[3];
    for (const [t, path] of [
      [da, '/device/auth'],
      [ip, '/dashboard/api/session'],
    ] as const) {
      const post = (body: Buffer | string, headers: Record<string, string> = JSON_CT) =>
        rawExchange(t.port, rawRequest('POST', path, headers, body));
      const expectDetail = async (p: Promise<RawAnswer>, status: number, detail: RegExp) => {
        const a = await p;
        expect({ status: a.status, detail: JSON.parse(a.body).detail }).toEqual({
          status,
          detail: expect.stringMatching(detail),
        });
      };
      await expectDetail(post(deepObject), 400, /nested deeper than 32/);
      await expectDetail(
        post('{"api_key":"a","api_key":"b","device_id":"x","device_secret":"y"}'),
        400,
        /repeats a key/,
      );
      await expectDetail(post('{"api_key":"a\\u0000","device_id":"x\\u0000","device_secret":"y"}'), 400, /NUL/);
      await expectDetail(post('{"api_key":"\\ud800","device_id":"\\ud800","device_secret":"y"}'), 400, /surrogate/);
      await expectDetail(
        post(Buffer.concat([Buffer.from('{"api_key":"'), SURROGATE_BYTES, Buffer.from('"}')])),
        400,
        /UTF-8/,
      );
      await expectDetail(post(huge), 413, /too large/i);
      await expectDetail(post('api_key=a', { 'Content-Type': 'text/plain' }), 415, /media type/i);
    }
    // A NUL in a path parameter or query value never reaches Postgres.
    const admin = { 'X-Portcullis-API-Key': deviceAuth.adminKey };
    const byId = await rawExchange(da.port, rawRequest('GET', '/admin/devices/pi%00x', admin));
    expect({ status: byId.status, detail: JSON.parse(byId.body).detail }).toEqual({
      status: 400,
      detail: expect.stringMatching(/NUL/),
    });
    const listed = await rawExchange(da.port, rawRequest('GET', '/admin/devices?customer_id=c%00', admin));
    expect({ status: listed.status, detail: JSON.parse(listed.body).detail }).toEqual({
      status: 400,
      detail: expect.stringMatching(/NUL/),
    });
    // A device id of 128 characters still reaches the handler (a 404 from it, not from the router).
    const long = await rawExchange(da.port, rawRequest('GET', `/admin/devices/${'a'.repeat(128)}`, admin));
    expect({ status: long.status, detail: JSON.parse(long.body).detail }).toEqual({
      status: 404,
      detail: expect.not.stringMatching(/Cannot GET/),
    });
  });

  it('cuts off a body that never arrives: 408 {"detail"} after the body timeout', async () => {
    const answers = await Promise.all(
      targets.map((t) =>
        rawExchange(t.port, rawRequest('POST', '/health', { ...JSON_CT, 'Content-Length': 100 }, '{"a'), {
          timeoutMs: 8000,
        }),
      ),
    );
    for (const a of answers)
      expect({ status: a.status, detail: JSON.parse(a.body).detail }).toEqual({
        status: 408,
        detail: expect.any(String),
      });
  });
});
