import { http } from './support/http';
import { createTestDatabase, deleteBucket, randomClientIp, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from './support/device-auth';

/** /device/auth: 5 per minute per device and per address, counted across replicas (JetStream KV). */
describe('device-auth rate limit', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let one: RunningDeviceAuth;
  let two: RunningDeviceAuth;
  const bucket = `pc_test_rate_${Date.now()}_${process.pid}`;

  beforeAll(async () => {
    db = await createTestDatabase('da_rate');
    // Two replicas started together on a fresh database (migrations under an advisory lock):
    // one database, one pepper, one admin key, one rate-limit bucket.
    const shared = { adminKey: `admin-${bucket}`, pepper: `pepper-${bucket}`, env: { DEVICE_AUTH_RATE_LIMIT_BUCKET: bucket } };
    [one, two] = await Promise.all([startTestDeviceAuth({ databaseUrl: db.url, ...shared }), startTestDeviceAuth({ databaseUrl: db.url, ...shared })]);
  });

  afterAll(async () => {
    await two?.close();
    await one?.close();
    await deleteBucket(bucket);
    await db?.drop();
  });

  const auth = (via: RunningDeviceAuth, deviceId: string, secret: string, ip: string) =>
    http('POST', `${via.url}/device/auth`, { json: { device_id: deviceId, device_secret: secret }, headers: { 'x-forwarded-for': ip } });

  it('limits one device to 5 attempts a minute across two instances, whatever the address', async () => {
    const id = uniqueDeviceId('rl_dev');
    const { device_secret } = await one.register(id);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await auth(i % 2 ? two : one, id, device_secret, randomClientIp())).status);
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
    for (let i = 0; i < 6; i++) statuses.push((await auth(i % 2 ? one : two, uniqueDeviceId('rl_ip'), 'ds_wrong', ip)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await auth(one, uniqueDeviceId('rl_ip'), 'ds_wrong', randomClientIp())).status).toBe(401);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const untrusting = await startTestDeviceAuth({ databaseUrl: db.url, env: { TRUSTED_PROXIES: '10.9.9.9' } });
    const before = (await untrusting.admin('GET', '/admin/audit?limit=1')).body.events[0]?.id ?? 0;
    try {
      // Not trusted: every request counts against 127.0.0.1 whatever the header claims.
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await auth(untrusting, uniqueDeviceId('rl_xff'), 'ds_wrong', randomClientIp())).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const audit = await untrusting.admin('GET', '/admin/audit?limit=5');
      const mine = audit.body.events.filter((e: { id: number }) => e.id > before);
      expect(mine.map((e: { client_ip: string }) => e.client_ip)).toEqual(Array(5).fill('127.0.0.1'));
    } finally {
      await untrusting.close();
    }
  });
});
