import { canary } from '../support/env';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth, uniqueDeviceId } from '../support/device-auth';
import { FakeVapi } from '../support/device-auth-fake-vapi';

/** The vendor proxy: the device holds a token, device-auth holds VAPI_API_KEY. */
describe('device-auth Vapi proxy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  const vapiKey = canary('vapi');
  const vapi = new FakeVapi(vapiKey);
  let token: string;
  let deviceId: string;

  beforeAll(async () => {
    await vapi.start();
    db = await createTestDatabase('da_vapi');
    da = await startTestDeviceAuth({ databaseUrl: db.url, env: { VAPI_API_KEY: vapiKey, VAPI_BASE_URL: vapi.url } });
    deviceId = uniqueDeviceId('vapi');
    const { device_secret } = await da.register(deviceId, 'urbanjungle');
    token = (await da.authenticate(deviceId, device_secret)).body.access_token;
  });

  afterAll(async () => {
    await da?.close();
    await db?.drop();
    await vapi.stop();
  });

  beforeEach(() => {
    vapi.failWith = undefined;
  });

  it('starts a web call with the server-held key, tagged with the device and customer', async () => {
    const r = await da.call('POST', '/vapi/start', {
      token,
      json: {
        assistant_id: 'asst-1',
        assistant_overrides: {
          firstMessageMode: 'assistant-speaks-first',
          metadata: { room: 'lobby', portcullis_device_id: 'pi_forged' },
        },
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: expect.any(String), type: 'webCall', assistantId: 'asst-1' });
    const sent = vapi.requests.filter((q) => q.path === '/call/web').at(-1)!;
    expect(sent.authorization).toBe(`Bearer ${vapiKey}`);
    expect(sent.body).toEqual({
      assistantId: 'asst-1',
      assistantOverrides: {
        firstMessageMode: 'assistant-speaks-first',
        metadata: { room: 'lobby', portcullis_device_id: deviceId, portcullis_customer_id: 'urbanjungle' },
      },
    });
    expect(r.text).not.toContain(vapiKey);
  });

  it('stops only the device’s own calls, through the call control URL', async () => {
    const started = await da.call('POST', '/vapi/start', { token, json: { assistant_id: 'asst-2' } });
    const callId = started.body.id as string;
    const other = uniqueDeviceId('vapi_other');
    const otherSecret = (await da.register(other, 'urbanjungle')).device_secret;
    const otherToken = (await da.authenticate(other, otherSecret)).body.access_token;
    const foreign = await da.call('POST', '/vapi/stop', { token: otherToken, json: { call_id: callId } });
    expect(foreign.status).toBe(404);
    expect(vapi.calls.get(callId).status).toBe('queued');

    const stopped = await da.call('POST', '/vapi/stop', { token, json: { call_id: callId } });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toEqual({ call_id: callId, status: 'ending' });
    expect(vapi.calls.get(callId).status).toBe('ended');
    const control = vapi.requests.filter((q) => q.path === `/control/${callId}`);
    expect(control).toHaveLength(1);
    expect(control[0].authorization).toBeUndefined();
    expect((await da.call('POST', '/vapi/stop', { token, json: { call_id: 'no-such-call' } })).status).toBe(404);
  });

  it('maps vendor failures to clear statuses, never passing the vendor’s key error on', async () => {
    for (const [vendor, ours] of [
      [401, 502],
      [403, 502],
      [500, 502],
      [422, 400],
      [429, 503],
    ] as const) {
      vapi.failWith = vendor;
      const r = await da.call('POST', '/vapi/start', { token, json: { assistant_id: 'asst-3' } });
      expect([vendor, r.status]).toEqual([vendor, ours]);
      expect(r.text).not.toContain(vapiKey);
      expect(r.text).not.toContain('Invalid Key');
    }
  });

  it('answers 502 when the server key is wrong, without echoing what the vendor said', async () => {
    const wrong = await startTestDeviceAuth({
      databaseUrl: db.url,
      pepper: da.cfg.pepper,
      dataDir: da.dataDir,
      env: { VAPI_API_KEY: canary('wrongvapi'), VAPI_BASE_URL: vapi.url },
    });
    try {
      const r = await wrong.call('POST', '/vapi/start', { token, json: { assistant_id: 'asst-4' } });
      expect(r.status).toBe(502);
      expect(r.body).toEqual({ detail: 'voice vendor refused the server credentials' });
      expect(wrong.logs.text).not.toContain(wrong.cfg.vapiApiKey!);
    } finally {
      await wrong.close();
    }
  });

  it('requires a device token and a well-formed body', async () => {
    expect((await da.call('POST', '/vapi/start', { json: { assistant_id: 'a' } })).status).toBe(401);
    expect((await da.call('POST', '/vapi/stop', { token: 'x.y.z', json: { call_id: 'a' } })).status).toBe(401);
    expect((await da.call('POST', '/vapi/start', { token, json: {} })).status).toBe(400);
    expect((await da.call('POST', '/vapi/stop', { token, json: { call_id: 5 } })).status).toBe(400);
  });

  it('never writes the vendor key or the device token to the log', () => {
    expect(da.logs.text).toContain('/vapi/start');
    expect(da.logs.text).not.toContain(vapiKey);
    expect(da.logs.text).not.toContain(token);
  });
});
