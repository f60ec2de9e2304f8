import { HttpResult, http, waitFor } from '../support/http';
import { RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from '../support/device-auth';
import { FakeVapi } from '../support/device-auth-fake-vapi';
import { canary } from '../support/env';
import { PostgresCluster } from '../support/postgres-cluster';

/**
 * device-auth while its Postgres goes away and comes back, on a cluster of the
 * test's own: an outage is a 503 with Retry-After (never a 500, never a 401 that
 * would send healthy devices back to sign in), tokens keep working where the
 * answer needs no registry, and everything recovers without a restart.
 */
describe('device-auth during a Postgres outage', () => {
  const pg = new PostgresCluster();
  const vapiKey = canary('vapi');
  const vapi = new FakeVapi(vapiKey);
  let da: RunningDeviceAuth;
  let deviceId: string;
  let secret: string;
  let token: string;
  let revokedToken: string;
  let frozen = false;

  beforeAll(async () => {
    await pg.init();
    pg.start();
    await vapi.start();
    da = await startTestDeviceAuth({
      databaseUrl: pg.url,
      // Short database timeouts so the frozen-server case below answers quickly.
      env: {
        DEVICE_AUTH_RATE_LIMIT: '1000',
        VAPI_API_KEY: vapiKey,
        VAPI_BASE_URL: vapi.url,
        DEVICE_AUTH_DB_CONNECT_TIMEOUT_MS: '1000',
        DEVICE_AUTH_DB_QUERY_TIMEOUT_MS: '1000',
      },
    });
    deviceId = uniqueDeviceId('pgf');
    secret = (await da.register(deviceId)).device_secret;
    token = (await da.authenticate(deviceId, secret)).body.access_token;
    // A device revoked before the outage: its token must stay refused while the registry is away.
    const revokedId = uniqueDeviceId('pgf_rev');
    const revokedSecret = (await da.register(revokedId)).device_secret;
    revokedToken = (await da.authenticate(revokedId, revokedSecret)).body.access_token;
    expect((await da.admin('POST', `/admin/devices/${revokedId}/revoke`)).status).toBe(200);
  });

  afterAll(async () => {
    if (frozen) pg.freeze(false);
    await da?.close();
    await vapi.stop();
    pg.destroy();
  });

  const ready = async () => (await http('GET', `${da.url}/health/ready`)).status;

  function expectOutage(r: HttpResult, what: string): void {
    expect({ what, status: r.status }).toEqual({ what, status: 503 });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(r.body).toEqual({ detail: expect.any(String) });
    expect(r.text).not.toContain(secret);
  }

  /** Device traffic in the background: every answer it gets must be a success or an honest 503. */
  function lightLoad() {
    const statuses = new Map<number, number>();
    let running = true;
    const loop = async () => {
      while (running) {
        const r = await da.call('GET', '/device/info', { token }).catch(() => undefined);
        if (r) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    const loops = [loop(), loop(), loop()];
    return {
      statuses,
      async stop() {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  it('answers 503 with Retry-After while Postgres is down, keeps vendor calls going, and recovers without a restart', async () => {
    expect(await ready()).toBe(200);
    const load = lightLoad();
    await new Promise((r) => setTimeout(r, 200));
    pg.stop('fast');
    try {
      await waitFor(async () => (await ready()) === 503, 10000, 100);

      expectOutage(await da.authenticate(deviceId, secret), 'POST /device/auth (good secret)');
      expectOutage(await da.authenticate(deviceId, 'ds_wrong'), 'POST /device/auth (wrong secret)');
      expectOutage(await da.admin('GET', '/admin/devices'), 'GET /admin/devices');
      expectOutage(await da.admin('POST', '/admin/devices', { customer_id: 'cust_test' }), 'POST /admin/devices');
      expectOutage(await da.admin('GET', `/admin/devices/${deviceId}`), 'GET /admin/devices/:id');
      expectOutage(await da.admin('GET', '/admin/audit'), 'GET /admin/audit');
      expectOutage(await da.call('GET', '/device/info', { token }), 'GET /device/info');
      expectOutage(await da.call('POST', '/device/refresh', { token }), 'POST /device/refresh');

      // The vendor proxy needs only the token (signature, expiry, revocation map).
      const started = await da.call('POST', '/vapi/start', { token, json: { assistant_id: 'asst-outage' } });
      expect(started.status).toBe(200);
      expect(vapi.calls.get(started.body.id)).toMatchObject({ assistantId: 'asst-outage' });
      expect((await da.call('POST', '/vapi/stop', { token, json: { call_id: started.body.id } })).body).toEqual({
        call_id: started.body.id,
        status: 'ending',
      });
      // ...and a bad or revoked token is still refused as before.
      expect((await da.call('POST', '/vapi/start', { token: revokedToken, json: { assistant_id: 'x' } })).status).toBe(
        401,
      );
      expect(
        (await da.call('POST', '/vapi/start', { token: `${token.slice(0, -4)}AAAA`, json: { assistant_id: 'x' } }))
          .status,
      ).toBe(401);
      expect((await da.call('GET', '/device/info')).status).toBe(401);
    } finally {
      await load.stop();
    }
    const seen = Object.fromEntries(load.statuses);
    expect(Object.keys(seen).sort()).toEqual(['200', '503']);

    pg.start();
    await waitFor(async () => (await ready()) === 200, 15000, 100);
    expect((await da.call('GET', '/device/info', { token })).body).toMatchObject({ device_id: deviceId });
    expect((await da.call('POST', '/device/refresh', { token })).status).toBe(200);
    expect((await da.authenticate(deviceId, secret)).status).toBe(200);
    expect((await da.admin('GET', `/admin/devices/${deviceId}`)).status).toBe(200);
  });

  it('treats a crash (immediate shutdown) the same way, and recovers again', async () => {
    if (!pg.running) pg.start();
    await waitFor(async () => (await ready()) === 200, 15000, 100);
    pg.stop('immediate');
    await waitFor(async () => (await ready()) === 503, 10000, 100);
    expectOutage(await da.call('GET', '/device/info', { token }), 'GET /device/info');
    expectOutage(await da.authenticate(deviceId, secret), 'POST /device/auth');
    expect((await da.call('POST', '/vapi/start', { token, json: { assistant_id: 'asst-crash' } })).status).toBe(200);
    pg.start();
    await waitFor(async () => (await ready()) === 200, 15000, 100);
    expect((await da.authenticate(deviceId, secret)).status).toBe(200);
  });

  it('gives up on a Postgres that accepts connections but never answers, instead of holding requests', async () => {
    if (!pg.running) pg.start();
    await waitFor(async () => (await ready()) === 200, 15000, 100);
    pg.freeze(true);
    frozen = true;
    try {
      // Bounded by the connect and query timeouts; without them these requests would never be answered.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answered = await Promise.race([
        Promise.all([
          da.call('GET', '/device/info', { token }),
          da.authenticate(deviceId, secret),
          da.admin('GET', '/admin/devices'),
        ]),
        new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 20000))),
      ]).finally(() => clearTimeout(timer));
      expect(answered).toBeDefined();
      const [info, auth, list] = answered!;
      expectOutage(info, 'GET /device/info');
      expectOutage(auth, 'POST /device/auth');
      expectOutage(list, 'GET /admin/devices');
      expect(await ready()).toBe(503);
    } finally {
      pg.freeze(false);
      frozen = false;
    }
    await waitFor(async () => (await ready()) === 200, 15000, 100);
    expect((await da.call('GET', '/device/info', { token })).status).toBe(200);
    expect((await da.authenticate(deviceId, secret)).status).toBe(200);
  });
});
