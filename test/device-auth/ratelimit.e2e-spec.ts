import { http } from '../support/http';
import { AttemptsRetention } from '../../apps/device-auth/src/devices/attempts-retention';
import {
  createTestDatabase,
  deleteBucket,
  randomClientIp,
  RunningDeviceAuth,
  sql,
  startTestDeviceAuth,
  uniqueDeviceId,
} from '../support/device-auth';

/** /device/auth: 5 a minute per device, 5 failures a minute per address, counted across replicas (JetStream KV). */
describe('device-auth rate limit', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let one: RunningDeviceAuth;
  let two: RunningDeviceAuth;
  const bucket = `pc_test_rate_${Date.now()}_${process.pid}`;

  beforeAll(async () => {
    db = await createTestDatabase('da_rate');
    // Two replicas started together on a fresh database (migrations under an advisory lock):
    // one database, one pepper, one admin key, one rate-limit bucket.
    const shared = {
      adminKey: `admin-${bucket}`,
      pepper: `pepper-${bucket}`,
      env: { DEVICE_AUTH_RATE_LIMIT_BUCKET: bucket },
    };
    [one, two] = await Promise.all([
      startTestDeviceAuth({ databaseUrl: db.url, ...shared }),
      startTestDeviceAuth({ databaseUrl: db.url, ...shared }),
    ]);
  });

  afterAll(async () => {
    await two?.close();
    await one?.close();
    await deleteBucket(bucket);
    await db?.drop();
  });

  const auth = (via: RunningDeviceAuth, deviceId: string, secret: string, ip: string) =>
    http('POST', `${via.url}/device/auth`, {
      json: { device_id: deviceId, device_secret: secret },
      headers: { 'x-forwarded-for': ip },
    });

  it('limits one device to 5 attempts a minute across two instances, whatever the address', async () => {
    const id = uniqueDeviceId('rl_dev');
    const { device_secret } = await one.register(id);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await auth(i % 2 ? two : one, id, device_secret, randomClientIp())).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await auth(two, id, device_secret, randomClientIp());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.body).toEqual({ detail: expect.any(String) });
    // Another device is not affected.
    const other = uniqueDeviceId('rl_other');
    const s2 = (await one.register(other)).device_secret;
    expect((await auth(two, other, s2, randomClientIp())).status).toBe(200);
  });

  it('limits one client address to 5 attempts a minute across devices and instances', async () => {
    const ip = randomClientIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await auth(i % 2 ? one : two, uniqueDeviceId('rl_ip'), 'ds_wrong', ip)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await auth(one, uniqueDeviceId('rl_ip'), 'ds_wrong', randomClientIp())).status).toBe(401);
  });

  it('counts only failures against an address: devices that sign in fine share it freely', async () => {
    const ip = randomClientIp();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const id = uniqueDeviceId('rl_shared');
      const { device_secret } = await one.register(id);
      statuses.push((await auth(i % 2 ? one : two, id, device_secret, ip)).status);
    }
    expect(statuses).toEqual(Array(8).fill(200));
  });

  it('throttles a device that keeps failing without locking out its neighbour behind the same address', async () => {
    const ip = randomClientIp();
    const revoked = uniqueDeviceId('rl_revoked');
    const revokedSecret = (await one.register(revoked)).device_secret;
    await one.admin('POST', `/admin/devices/${revoked}/revoke`);
    const neighbour = uniqueDeviceId('rl_neighbour');
    const neighbourSecret = (await one.register(neighbour)).device_secret;
    const storm: number[] = [];
    const healthy: number[] = [];
    for (let i = 0; i < 12; i++) {
      storm.push((await auth(i % 2 ? one : two, revoked, revokedSecret, ip)).status);
      if (i % 3 === 0) healthy.push((await auth(i % 2 ? two : one, neighbour, neighbourSecret, ip)).status);
    }
    expect(storm).toEqual([401, 401, 401, 401, 401, ...Array(7).fill(429)]);
    expect(healthy).toEqual([200, 200, 200, 200]);
    // The 6th failure is on record as itself (its answer became 429); the six refused before any
    // credential check are on record aggregated: a row per window (two if the run straddled a window edge).
    const rows = (await one.admin('GET', `/admin/audit?device_id=${revoked}`)).body.events.filter(
      (e: { reason: string }) => e.reason === 'throttled_device',
    );
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows.reduce((n: number, e: { attempts: number }) => n + e.attempts, 0)).toBe(6);
    expect(rows[0]).toMatchObject({
      action: 'device.auth',
      outcome: 'deny',
      client_ip: ip,
      window_start: expect.any(String),
    });
  });

  it('purges sign-in attempts older than the retention setting (default 30 days)', async () => {
    const id = uniqueDeviceId('rl_retention');
    await sql(
      db.url,
      `INSERT INTO device_auth_attempts (device_id, action, outcome, reason, created_at) VALUES
         ('${id}', 'device.auth', 'deny', 'old', now() - interval '31 days'),
         ('${id}', 'device.auth', 'deny', 'recent', now() - interval '29 days')`,
    );
    expect(one.cfg.attemptsRetentionDays).toBe(30);
    expect(await one.app.get(AttemptsRetention).purge()).toBeGreaterThanOrEqual(1);
    const [left] = await sql(db.url, `SELECT reason FROM device_auth_attempts WHERE device_id = '${id}'`);
    expect(left).toEqual([{ reason: 'recent' }]);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const untrusting = await startTestDeviceAuth({ databaseUrl: db.url, env: { TRUSTED_PROXIES: '10.9.9.9' } });
    const before = (await untrusting.admin('GET', '/admin/audit?limit=1')).body.events[0]?.id ?? 0;
    try {
      // Not trusted: every request counts against 127.0.0.1 whatever the header claims.
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push((await auth(untrusting, uniqueDeviceId('rl_xff'), 'ds_wrong', randomClientIp())).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const audit = await untrusting.admin('GET', '/admin/audit?limit=5');
      const mine = audit.body.events.filter((e: { id: number }) => e.id > before);
      expect(mine.map((e: { client_ip: string }) => e.client_ip)).toEqual(Array(5).fill('127.0.0.1'));
    } finally {
      await untrusting.close();
    }
  });
});
