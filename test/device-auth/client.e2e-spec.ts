import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient, DeviceClientError, DeviceClientEvent, ManualClock } from '@portcullis/device-client';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from '../support/device-auth';
import { FakeVapi } from '../support/device-auth-fake-vapi';
import { canary } from '../support/env';

/** The device client (libs/device-client) against the real device-auth, on a controllable clock. */
describe('DeviceClient', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  const vapiKey = canary('vapi');
  const vapi = new FakeVapi(vapiKey);

  beforeAll(async () => {
    await vapi.start();
    db = await createTestDatabase('da_client');
    da = await startTestDeviceAuth({
      databaseUrl: db.url,
      env: { DEVICE_AUTH_RATE_LIMIT: '1000', VAPI_API_KEY: vapiKey, VAPI_BASE_URL: vapi.url },
    });
  });

  afterAll(async () => {
    await da?.close();
    await db?.drop();
    await vapi.stop();
  });

  async function setup(label: string) {
    const id = uniqueDeviceId(label);
    const { device_secret } = await da.register(id);
    const clock = new ManualClock();
    const events: DeviceClientEvent[] = [];
    const client = new DeviceClient({
      baseUrl: da.url,
      deviceId: id,
      deviceSecret: device_secret,
      clock,
      onEvent: (e) => events.push(e),
    });
    return { id, secret: device_secret, clock, events, client };
  }

  const actions = async (id: string) =>
    (
      (await da.admin('GET', `/admin/audit?device_id=${id}&limit=50`)).body.events as Array<{
        action: string;
        outcome: string;
      }>
    )
      .reverse()
      .map((e) => `${e.action}:${e.outcome}`);

  const settle = (events: DeviceClientEvent[], n: number) =>
    new Promise<void>((resolve, reject) => {
      const until = Date.now() + 5000;
      const check = () =>
        events.length >= n
          ? resolve()
          : Date.now() > until
            ? reject(new Error(`only ${events.length} events`))
            : setTimeout(check, 10);
      check();
    });

  it('refreshes at 80% of the token lifetime, not before', async () => {
    const { id, clock, events, client } = await setup('sched');
    await client.start();
    const start = clock.now();
    expect(client.expiresAt).toBe(start + 900_000);
    expect(clock.nextTimerAt).toBe(start + 720_000);
    clock.advance(719_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.type)).toEqual(['authenticated']);
    clock.advance(1_000);
    await settle(events, 2);
    expect(events.map((e) => e.type)).toEqual(['authenticated', 'refreshed']);
    expect(clock.nextTimerAt).toBe(start + 720_000 + 720_000);
    expect(await actions(id)).toEqual(['device.auth:allow', 'device.refresh:allow']);
    client.stop();
  });

  it('authenticates again after being offline past expiry, without trying a refresh', async () => {
    const { id, clock, events, client } = await setup('offline');
    await client.token();
    clock.advance(901_000);
    await client.token();
    expect(events.map((e) => e.type)).toEqual(['authenticated', 'authenticated']);
    expect(await actions(id)).toEqual(['device.auth:allow', 'device.auth:allow']);
  });

  it('authenticates again when a refresh is refused (revoked then reactivated)', async () => {
    const { id, clock, events, client } = await setup('refused');
    await client.token();
    await da.admin('POST', `/admin/devices/${id}/revoke`);
    await da.admin('POST', `/admin/devices/${id}/reactivate`);
    clock.advance(800_000);
    await client.token();
    expect(events.map((e) => e.type)).toEqual(['authenticated', 'refresh_refused', 'authenticated']);
  });

  it('surfaces a revoked device as an error', async () => {
    const { id, clock, client } = await setup('revoked');
    await client.token();
    await da.admin('POST', `/admin/devices/${id}/revoke`);
    clock.advance(800_000);
    await expect(client.token()).rejects.toBeInstanceOf(DeviceClientError);
  });

  it('starts and stops calls through the proxy, re-authenticating once when the token is refused', async () => {
    const { id, client } = await setup('calls');
    const call = await client.startCall('asst-1');
    expect(call).toMatchObject({ id: expect.any(String), assistantId: 'asst-1' });
    // The server voids the token (revoke + reactivate); the client recovers with its secret.
    await da.admin('POST', `/admin/devices/${id}/revoke`);
    await da.admin('POST', `/admin/devices/${id}/reactivate`);
    await expect(client.stopCall(String(call.id))).resolves.toEqual({ call_id: call.id, status: 'ending' });
    await expect(client.info()).resolves.toMatchObject({ device_id: id });
  });

  it('runs as a Pi client: authenticate, start a call, end it on SIGINT, never print the secret', async () => {
    const { id, secret } = await setup('pi');
    const dir = mkdtempSync(join(tmpdir(), 'pc-pi-'));
    const config = join(dir, 'device_config.json');
    writeFileSync(config, JSON.stringify({ device_id: id, proxy_url: da.url, vapi_assistant_id: 'asst-pi' }));
    const child = spawn(
      process.execPath,
      [
        '-r',
        join(__dirname, '..', 'support', 'device-auth-register.js'),
        join(__dirname, '..', '..', 'libs', 'device-client', 'src', 'pi-client.ts'),
        config,
      ],
      {
        env: { PATH: process.env.PATH ?? '', DEVICE_SECRET: secret },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      const until = Date.now() + 20000;
      while (!/call started: (\S+)/.test(out)) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`pi-client: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const callId = /call started: (\S+)/.exec(out)![1];
      expect(vapi.calls.get(callId)).toMatchObject({ assistantId: 'asst-pi', status: 'queued' });
      child.kill('SIGINT');
      await expect(exited).resolves.toBe(0);
      expect(out).toContain('call ended');
      expect(vapi.calls.get(callId).status).toBe('ended');
      expect(out).not.toContain(secret);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
