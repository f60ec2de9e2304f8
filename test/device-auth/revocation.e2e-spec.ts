import { randomBytes } from 'node:crypto';
import { connect, NatsConnection } from 'nats';
import { NATS_URL } from '../support/env';
import { http, waitFor } from '../support/http';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from '../support/device-auth';
import { spawnVerifier, VerifierProcess } from '../support/device-auth-verifier';

/** Revocation reaches an app that verifies tokens locally, over real NATS, also after that app restarts. */
describe('device-auth revocation in a second app', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  let verifier: VerifierProcess | undefined;
  const issuer = `test-issuer-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase('da_revoke');
    da = await startTestDeviceAuth({ databaseUrl: db.url, env: { DEVICE_AUTH_ISSUER: issuer } });
  });

  afterAll(async () => {
    await verifier?.stop();
    await da?.close();
    await db?.drop();
  });

  const whoami = (token: string) =>
    http('GET', `${verifier!.url}/whoami`, { headers: { authorization: `Bearer ${token}` } });

  it('publishes revocations on NATS without any secret or token in the payload', async () => {
    const nc: NatsConnection = await connect({ servers: NATS_URL });
    const seen: string[] = [];
    const sub = nc.subscribe('portcullis.device.>', {
      callback: (_e, m) => seen.push(`${m.subject} ${new TextDecoder().decode(m.data)}`),
    });
    try {
      const id = uniqueDeviceId('rev_nats');
      const { device_secret } = await da.register(id);
      const token = (await da.authenticate(id, device_secret)).body.access_token as string;
      await da.admin('POST', `/admin/devices/${id}/revoke`);
      await waitFor(() => seen.some((l) => l.includes(id)), 2000);
      const line = seen.find((l) => l.includes(id)) as string;
      expect(line.startsWith('portcullis.device.revoked ')).toBe(true);
      expect(JSON.parse(line.slice(line.indexOf(' ') + 1)).data).toEqual({
        iss: issuer,
        device_id: id,
        min_generation: 2,
        revoked_at: expect.any(String),
      });
      for (const s of [device_secret, token, da.adminKey, da.cfg.pepper as string])
        expect(seen.join('\n')).not.toContain(s);
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
  });

  it('refuses a revoked device token within one second, in device-auth and in the other app, and after that app restarts', async () => {
    const a = uniqueDeviceId('rev_a');
    const b = uniqueDeviceId('rev_b');
    const secretA = (await da.register(a, 'cust_a')).device_secret;
    const secretB = (await da.register(b, 'cust_b')).device_secret;
    const tokenA = (await da.authenticate(a, secretA)).body.access_token as string;
    const tokenB = (await da.authenticate(b, secretB)).body.access_token as string;

    verifier = await spawnVerifier(da.url, issuer, da.cfg.audience);
    // Accepted once the verifier has its keys and its first revocation snapshot.
    await waitFor(async () => (await whoami(tokenA)).status === 200, 10000);
    expect((await whoami(tokenA)).body).toEqual({ device_id: a, customer_id: 'cust_a' });
    expect((await whoami('not-a-token')).status).toBe(401);

    const revokedAt = Date.now();
    expect((await da.admin('POST', `/admin/devices/${a}/revoke`)).status).toBe(200);
    await waitFor(async () => (await whoami(tokenA)).status === 401, 1000, 5);
    const elapsed = Date.now() - revokedAt;
    expect(elapsed).toBeLessThan(1000);
    expect((await whoami(tokenA)).body).toEqual({ detail: 'unauthorized' });
    expect((await da.call('GET', '/device/info', { token: tokenA })).status).toBe(401);
    // Only that device.
    expect((await whoami(tokenB)).status).toBe(200);
    const metrics = (await http('GET', `${verifier.url}/metrics`)).text;
    expect(metrics).toMatch(/portcullis_revocations_received_total\{app="verifier"\} [1-9]/);
    expect(metrics).toMatch(
      /portcullis_auth_decisions_total\{app="verifier",route="\/whoami",decision="deny",reason="revoked"\} [1-9]/,
    );
    expect(metrics).not.toContain(tokenA);

    await verifier.stop();
    verifier = await spawnVerifier(da.url, issuer, da.cfg.audience);
    // B accepted proves the restarted app synced; A must still be refused, from the snapshot alone.
    await waitFor(async () => (await whoami(tokenB)).status === 200, 10000);
    expect((await whoami(tokenA)).status).toBe(401);

    // Reactivated: new tokens work, the old ones stay void.
    expect((await da.admin('POST', `/admin/devices/${a}/reactivate`)).status).toBe(200);
    const fresh = (await da.authenticate(a, secretA)).body.access_token as string;
    expect((await whoami(fresh)).status).toBe(200);
    expect((await whoami(tokenA)).status).toBe(401);
    // The verifier's audit lines carry reasons; its answers never do.
    expect(verifier.output.join('')).not.toContain(tokenA);
  });
});
