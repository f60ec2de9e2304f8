import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { runInterfaceProxy, Running } from '../support/apps';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from '../support/device-auth';
import { canary } from '../support/env';
import type { InterfaceProxyConfig } from '../../apps/interface-proxy/src';
import { loadInterfaceProxyConfig, startInterfaceProxy } from '../../apps/interface-proxy/src';
import { MutableAdminKeySource } from '@portcullis/auth';
import { appUrl } from '@portcullis/platform';
import { LogCapture } from '../support/log-capture';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** node:http rather than fetch: these tests set Host, Origin and Sec-Fetch-Site themselves. */
function raw(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; json?: unknown } = {},
): Promise<Raw> {
  const u = new URL(path, base);
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  const headers: Record<string, string> = {
    ...(body ? { 'content-type': 'application/json' } : {}),
    ...(opts.headers ?? {}),
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function setCookie(r: Raw): string | undefined {
  const v = r.headers['set-cookie'];
  return Array.isArray(v) ? v[0] : v;
}

describe('dashboard session security (HTTP)', () => {
  let db: { url: string; drop(): Promise<void> };
  let deviceAuth: RunningDeviceAuth;
  let proxy: Running<InterfaceProxyConfig>;
  let origin: string;
  const seen: Raw[] = [];

  const call = async (
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; json?: unknown } = {},
  ) => {
    const r = await raw(proxy.url, method, path, opts);
    seen.push(r);
    return r;
  };

  async function signIn(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const r = await call('POST', '/dashboard/api/session', {
      headers: { origin },
      json: { api_key: deviceAuth.adminKey },
    });
    expect(r.status).toBe(200);
    const sc = setCookie(r) as string;
    return { cookie: sc.split(';')[0], csrf: r.body.csrf_token, setCookie: sc };
  }

  beforeAll(async () => {
    db = await createTestDatabase('dash_sec');
    deviceAuth = await startTestDeviceAuth({ databaseUrl: db.url });
    proxy = await runInterfaceProxy({
      PORTCULLIS_ADMIN_API_KEY: deviceAuth.adminKey,
      DEVICE_AUTH_URL: deviceAuth.url,
      // Nothing listens there: the tests below never reach bot-control or room-gateway.
      BOT_CONTROL_BASE_URL: 'http://127.0.0.1:9',
      ROOM_GATEWAY_BASE_URL: 'http://127.0.0.1:9',
      DASHBOARD_SESSION_TTL_SECONDS: '900',
    });
    origin = proxy.url;
  });

  afterAll(async () => {
    await proxy?.close();
    await deviceAuth?.close();
    await db?.drop();
  });

  it('issues an httpOnly, SameSite=Strict cookie with Max-Age, not Secure on loopback, and answers no key', async () => {
    const { setCookie: sc, csrf } = await signIn();
    expect(sc).toMatch(/^portcullis_dashboard=[A-Za-z0-9_-]{43}; /);
    const attrs = sc.split('; ').slice(1);
    expect(attrs).toEqual(expect.arrayContaining(['Path=/dashboard', 'Max-Age=900', 'HttpOnly', 'SameSite=Strict']));
    expect(attrs).not.toContain('Secure');
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('marks the cookie Secure for any host other than localhost / 127.0.0.1', async () => {
    const r = await call('POST', '/dashboard/api/session', {
      headers: { host: 'dash.example.com', origin: 'http://dash.example.com' },
      json: { api_key: deviceAuth.adminKey },
    });
    expect(r.status).toBe(200);
    expect(setCookie(r)?.split('; ')).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Strict']));
    const local = await call('POST', '/dashboard/api/session', {
      headers: { host: `localhost:${new URL(proxy.url).port}` },
      json: { api_key: deviceAuth.adminKey },
    });
    expect(setCookie(local)?.split('; ')).not.toContain('Secure');
  });

  it('refuses a wrong key with a readable message and no cookie', async () => {
    const r = await call('POST', '/dashboard/api/session', {
      headers: { origin },
      json: { api_key: `${deviceAuth.adminKey}x` },
    });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ detail: 'that admin API key is not accepted' });
    expect(setCookie(r)).toBeUndefined();
    const empty = await call('POST', '/dashboard/api/session', { headers: { origin }, json: {} });
    expect(empty.status).toBe(400);
    expect(setCookie(empty)).toBeUndefined();
  });

  it('refuses sign-in from another origin (login CSRF), even with the right key', async () => {
    for (const headers of [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'null' },
    ] as Array<Record<string, string>>) {
      const r = await call('POST', '/dashboard/api/session', { headers, json: { api_key: deviceAuth.adminKey } });
      expect(r.status).toBe(403);
      expect(setCookie(r)).toBeUndefined();
    }
  });

  it('requires the session on every API route', async () => {
    for (const [method, path] of [
      ['GET', '/dashboard/api/session'],
      ['GET', '/dashboard/api/devices'],
      ['GET', '/dashboard/api/bots'],
      ['GET', '/dashboard/api/rooms'],
      ['POST', '/dashboard/api/rooms/secret'],
    ]) {
      const r = await call(method, path, {
        headers: { origin },
        json: method === 'POST' ? { room_id: 'r1' } : undefined,
      });
      expect([path, r.status]).toEqual([path, 401]);
      expect(r.body).toEqual({ detail: 'not signed in' });
    }
    const forged = await call('GET', '/dashboard/api/devices', {
      headers: { cookie: `portcullis_dashboard=${randomBytes(32).toString('base64url')}` },
    });
    expect(forged.status).toBe(401);
  });

  it('refuses state changes without the CSRF token, with a wrong one, or from another origin; nothing is changed', async () => {
    const { cookie, csrf } = await signIn();
    const deviceId = uniqueDeviceId('dash_csrf');
    const register = (headers: Record<string, string>) =>
      call('POST', '/dashboard/api/devices', {
        headers: { cookie, ...headers },
        json: { device_id: deviceId, customer_id: 'cust_dash' },
      });

    const refused = [
      await register({ origin }),
      await register({
        origin,
        'x-csrf-token': `${csrf.slice(0, -1)}A` === csrf ? `${csrf.slice(0, -1)}B` : `${csrf.slice(0, -1)}A`,
      }),
      await register({ origin: 'https://evil.example', 'x-csrf-token': csrf }),
      await register({ 'sec-fetch-site': 'same-site', 'x-csrf-token': csrf }),
      await register({ origin: proxy.url.replace('http:', 'https:'), 'x-csrf-token': csrf }),
    ];
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ detail: 'request refused: reload the dashboard and try again' });
    }
    expect((await deviceAuth.admin('GET', `/admin/devices/${deviceId}`)).status).toBe(404);

    const ok = await register({ origin, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrf });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      device_id: deviceId,
      customer_id: 'cust_dash',
      active: true,
      device_secret: expect.any(String),
    });
    const revokeNoToken = await call('POST', `/dashboard/api/devices/${deviceId}/revoke`, {
      headers: { cookie, origin },
    });
    expect(revokeNoToken.status).toBe(403);
    expect((await deviceAuth.admin('GET', `/admin/devices/${deviceId}`)).body.active).toBe(true);
    const signOutNoToken = await call('DELETE', '/dashboard/api/session', { headers: { cookie, origin } });
    expect(signOutNoToken.status).toBe(403);
    expect((await call('GET', '/dashboard/api/session', { headers: { cookie } })).status).toBe(200);
  });

  it('signs out: the old cookie stops working and the cookie is cleared', async () => {
    const { cookie, csrf } = await signIn();
    const out = await call('DELETE', '/dashboard/api/session', { headers: { cookie, origin, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    expect(setCookie(out)).toMatch(/^portcullis_dashboard=; Path=\/dashboard; Max-Age=0; HttpOnly; SameSite=Strict/);
    expect((await call('GET', '/dashboard/api/devices', { headers: { cookie } })).status).toBe(401);
  });

  it('sends the security headers on the page and no-store on every API answer, errors included', async () => {
    const page = await call('GET', '/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.text).not.toMatch(/\son[a-z]+=/i);
    for (const asset of ['dashboard.js', 'dashboard.css'])
      expect((await call('GET', `/dashboard/assets/${asset}`)).status).toBe(200);
    expect((await call('GET', '/dashboard/assets/..%2Fsrc%2Fconfig.ts')).status).toBe(404);
    const { cookie } = await signIn();
    for (const r of [
      await call('GET', '/dashboard/api/devices', { headers: { cookie } }),
      await call('GET', '/dashboard/api/devices'),
    ]) {
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['content-security-policy']).toBeDefined();
    }
  });

  it('maps upstream failures to readable messages', async () => {
    const { cookie, csrf } = await signIn();
    const bots = await call('GET', '/dashboard/api/bots', { headers: { cookie } });
    expect(bots.status).toBe(502);
    expect(bots.body).toEqual({ detail: 'bot control server unavailable' });
    const rooms = await call('GET', '/dashboard/api/rooms', { headers: { cookie } });
    expect(rooms.body).toEqual({ detail: 'room-gateway is unavailable' });
    const missing = await call('POST', '/dashboard/api/devices/pi_nope_000/revoke', {
      headers: { cookie, origin, 'x-csrf-token': csrf },
    });
    expect(missing.status).toBe(404);
    expect(typeof missing.body.detail).toBe('string');
    const badId = await call('POST', '/dashboard/api/devices/..%2F..%2Fadmin/revoke', {
      headers: { cookie, origin, 'x-csrf-token': csrf },
    });
    expect(badId.status).toBe(400);
    expect(badId.body).toEqual({ detail: 'invalid device id' });
  });

  it("reports a device-auth that refuses the dashboard key as a server problem, not the operator's", async () => {
    const otherKey = canary('other-admin');
    const misconfigured = await runInterfaceProxy({
      PORTCULLIS_ADMIN_API_KEY: otherKey,
      DEVICE_AUTH_URL: deviceAuth.url,
    });
    try {
      const s = await raw(misconfigured.url, 'POST', '/dashboard/api/session', {
        headers: { origin: misconfigured.url },
        json: { api_key: otherKey },
      });
      const cookie = (setCookie(s) as string).split(';')[0];
      const r = await raw(misconfigured.url, 'GET', '/dashboard/api/devices', { headers: { cookie } });
      expect(r.status).toBe(502);
      expect(r.body).toEqual({ detail: "device-auth rejected the dashboard's admin key (server misconfiguration)" });
      expect(misconfigured.logs.text).toContain('check PORTCULLIS_ADMIN_API_KEY');
      expect(misconfigured.logs.text).not.toContain(otherKey);
    } finally {
      await misconfigured.close();
    }
  });

  it('slows down key guessing: 429 after 10 failures from one address', async () => {
    const guesser = await runInterfaceProxy({
      PORTCULLIS_ADMIN_API_KEY: deviceAuth.adminKey,
      DEVICE_AUTH_URL: deviceAuth.url,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++)
        statuses.push(
          (await raw(guesser.url, 'POST', '/dashboard/api/session', { json: { api_key: `guess-${i}` } })).status,
        );
      expect(statuses).toEqual([...Array(10).fill(401), 429]);
      // Even the right key waits out the window.
      expect(
        (await raw(guesser.url, 'POST', '/dashboard/api/session', { json: { api_key: deviceAuth.adminKey } })).status,
      ).toBe(429);
    } finally {
      await guesser.close();
    }
  });

  it("reads a handed-in key source afresh (the runner's hot-reloaded key) for sign-in and upstream calls", async () => {
    const stale = canary('stale-admin');
    const source = new MutableAdminKeySource({ current: stale });
    const cfg = loadInterfaceProxyConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      PORTCULLIS_ADMIN_API_KEY: stale,
      DEVICE_AUTH_URL: deviceAuth.url,
    });
    const app = await startInterfaceProxy(cfg, { logStream: new LogCapture(), adminKeySource: source });
    try {
      const url = await appUrl(app);
      source.update({ current: deviceAuth.adminKey });
      expect((await raw(url, 'POST', '/dashboard/api/session', { json: { api_key: stale } })).status).toBe(401);
      const s = await raw(url, 'POST', '/dashboard/api/session', { json: { api_key: deviceAuth.adminKey } });
      expect(s.status).toBe(200);
      const devices = await raw(url, 'GET', '/dashboard/api/devices', {
        headers: { cookie: (setCookie(s) as string).split(';')[0] },
      });
      expect(devices.status).toBe(200);
      expect(Array.isArray(devices.body.devices)).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('is off without an admin key, and refuses DASHBOARD_ENABLED=1 without one', async () => {
    const off = await runInterfaceProxy({});
    try {
      expect(off.cfg.dashboard).toBeUndefined();
      expect((await raw(off.url, 'GET', '/dashboard')).status).toBe(404);
    } finally {
      await off.close();
    }
    expect(() => loadInterfaceProxyConfig({ DASHBOARD_ENABLED: '1' })).toThrow(
      /PORTCULLIS_ADMIN_API_KEY: required while DASHBOARD_ENABLED=1/,
    );
    expect(() =>
      loadInterfaceProxyConfig({
        NODE_ENV: 'production',
        BOT_CONTROL_SHARED_SECRET: 'x'.repeat(32),
        PORTCULLIS_ADMIN_API_KEY: 'short',
      }),
    ).toThrow(/PORTCULLIS_ADMIN_API_KEY: must be at least 32 bytes in production/);
  });

  it('never shows the admin key in any answer or log line', () => {
    expect(seen.length).toBeGreaterThan(20);
    for (const r of seen) {
      expect(r.text).not.toContain(deviceAuth.adminKey);
      expect(JSON.stringify(r.headers)).not.toContain(deviceAuth.adminKey);
    }
    expect(proxy.logs.text).not.toContain(deviceAuth.adminKey);
    expect(deviceAuth.logs.text).not.toContain(deviceAuth.adminKey);
  });
});
