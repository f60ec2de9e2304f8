import { randomBytes, randomUUID } from 'node:crypto';
import { runBotControl, runInterfaceProxy, Running } from '../support/apps';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from '../support/device-auth';
import { canary, NATS_URL } from '../support/env';
import { http, waitFor } from '../support/http';
import type { BotControlConfig } from '../../apps/bot-control/src';
import type { InterfaceProxyConfig } from '../../apps/interface-proxy/src';

/** bot-control and interface-proxy accept device tokens through libs/auth, and honour revocation at once. */
describe('device tokens accepted by bot-control and interface-proxy', () => {
  const issuer = `apps-issuer-${randomBytes(4).toString('hex')}`;
  const secret = canary('bc-secret');
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  let bc: Running<BotControlConfig>;
  let proxy: Running<InterfaceProxyConfig>;

  beforeAll(async () => {
    db = await createTestDatabase('da_apps');
    da = await startTestDeviceAuth({ databaseUrl: db.url, env: { DEVICE_AUTH_ISSUER: issuer } });
    const deviceEnv = { NATS_URL, DEVICE_AUTH_URL: da.url, DEVICE_AUTH_ISSUER: issuer };
    bc = await runBotControl({ ...deviceEnv, BOT_CONTROL_SHARED_SECRET: secret, BOT_CONTROL_AUTH_REQUIRED: '1' });
    proxy = await runInterfaceProxy({
      ...deviceEnv,
      INTERFACE_AUTH_REQUIRED: '1',
      BOT_CONTROL_BASE_URL: bc.url,
      BOT_CONTROL_SHARED_SECRET: secret,
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await bc?.close();
    await da?.close();
    await db?.drop();
  });

  it('accepts a device token, refuses it within a second of the revoke, and never logs it', async () => {
    const id = uniqueDeviceId('apps');
    const { device_secret } = await da.register(id);
    const token = (await da.authenticate(id, device_secret)).body.access_token as string;
    const auth = { authorization: `Bearer ${token}` };
    const room = () => ({ room_url: `https://example.daily.co/dev-${randomUUID()}` });

    // The verifiers refuse everything until their first revocation snapshot; wait for it.
    const direct = await waitFor(
      async () => {
        const r = await http('POST', `${bc.url}/join`, { headers: auth, json: room() });
        return r.status === 200 ? r : undefined;
      },
      10000,
      100,
    );
    expect(direct.body.reused).toBe(false);
    expect(bc.logs.audits().some((a) => a.reason === 'device_token' && a.principal === `device:${id}`)).toBe(true);
    const proxied = await waitFor(
      async () => {
        const r = await http('POST', `${proxy.url}/api/bot/join`, { headers: auth, json: room() });
        return r.status === 200 ? r : undefined;
      },
      10000,
      100,
    );
    expect(proxied.body).toEqual({ pid: expect.any(Number), reused: false });

    // A JWT-shaped bearer that is not a valid device token is refused, not mistaken for a secret.
    const forged = `${token.split('.').slice(0, 2).join('.')}.${Buffer.from('nope').toString('base64url')}`;
    expect(
      (await http('POST', `${bc.url}/join`, { headers: { authorization: `Bearer ${forged}` }, json: room() })).status,
    ).toBe(401);
    expect((await http('POST', `${proxy.url}/api/bot/join`, { json: room() })).status).toBe(401);

    const revokedAt = Date.now();
    expect((await da.admin('POST', `/admin/devices/${id}/revoke`)).status).toBeLessThan(300);
    await waitFor(
      async () => (await http('POST', `${bc.url}/join`, { headers: auth, json: room() })).status === 401,
      1000,
      10,
    );
    await waitFor(
      async () => (await http('POST', `${proxy.url}/api/bot/join`, { headers: auth, json: room() })).status === 401,
      1000,
      10,
    );
    expect(Date.now() - revokedAt).toBeLessThan(2000);
    expect(bc.logs.audits().some((a) => a.reason === 'revoked')).toBe(true);

    // The shared secret still works for the server-side caller.
    expect((await http('POST', `${bc.url}/join`, { headers: { 'x-bot-secret': secret }, json: room() })).status).toBe(
      200,
    );

    for (const app of [bc, proxy]) {
      expect(app.logs.text).not.toContain(token);
      expect(app.logs.text).not.toContain(device_secret);
      expect(app.logs.text).not.toContain(secret);
    }
    for (const s of (await http('GET', `${bc.url}/sessions`)).body as Array<{ pid: number }>) {
      await http('DELETE', `${bc.url}/sessions/${s.pid}`, { headers: { 'x-bot-secret': secret } });
    }
  });
});
