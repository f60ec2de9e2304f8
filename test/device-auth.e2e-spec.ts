import { Client } from 'pg';
import { canary } from './support/env';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from './support/device-auth';

describe('device-auth: register -> auth -> refresh -> info -> revoke', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;

  beforeAll(async () => {
    db = await createTestDatabase('da_flow');
    da = await startTestDeviceAuth({ databaseUrl: db.url });
  });

  afterAll(async () => {
    await da?.close();
    await db?.drop();
  });

  it('issues, refreshes and revokes device tokens as seed 002 describes', async () => {
    const id = uniqueDeviceId('flow');
    const { device_secret } = await da.register(id, 'urbanjungle');
    expect(device_secret).toMatch(/^ds_[A-Za-z0-9_-]{43}$/);

    const auth = await da.authenticate(id, device_secret);
    expect(auth.status).toBe(200);
    expect(auth.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      customer_id: 'urbanjungle',
      device_info: { device_id: id, customer_id: 'urbanjungle', name: `${id} name`, active: true },
    });
    const token = auth.body.access_token as string;

    const refreshed = await da.call('POST', '/device/refresh', { token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    expect(refreshed.body.access_token).not.toBe(token);

    const info = await da.call('GET', '/device/info', { token: refreshed.body.access_token });
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ device_id: id, customer_id: 'urbanjungle', active: true });

    const revoked = await da.admin('POST', `/admin/devices/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ device_id: id, active: false, token_generation: 2 });

    for (const t of [token, refreshed.body.access_token]) {
      const r = await da.call('POST', '/device/refresh', { token: t });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ detail: 'unauthorized' });
      expect((await da.call('GET', '/device/info', { token: t })).status).toBe(401);
    }
    const again = await da.authenticate(id, device_secret);
    expect(again.status).toBe(401);
  });
});
