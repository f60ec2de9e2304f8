import { DeviceClient, DeviceClientEvent, DeviceCredentialsRefused } from '@portcullis/device-client';
import {
  createTestDatabase,
  randomClientIp,
  RunningDeviceAuth,
  sql,
  startTestDeviceAuth,
  uniqueDeviceId,
} from '../support/device-auth';
import { http } from '../support/http';

/**
 * A revoked device keeps trying to sign in, behind the same address as a
 * healthy one (a shop's NAT, a carrier gateway). The healthy neighbour keeps
 * signing in; the storm is throttled and on record in a few aggregated rows;
 * the real device client backs off and then stops by itself.
 */
describe('a sign-in storm behind a shared address', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  const address = randomClientIp();
  let revoked: { device_id: string; device_secret: string };
  let neighbour: { device_id: string; device_secret: string };

  beforeAll(async () => {
    db = await createTestDatabase('da_storm');
    // The default 5 a window; a short window so the test need not wait a minute for a block to end.
    da = await startTestDeviceAuth({
      databaseUrl: db.url,
      env: { DEVICE_AUTH_RATE_LIMIT: '5', DEVICE_AUTH_RATE_WINDOW_SECONDS: '3' },
    });
    const creds = async (label: string) => {
      const { device_id, device_secret } = await da.register(uniqueDeviceId(label));
      return { device_id, device_secret };
    };
    revoked = await creds('storm_revoked');
    neighbour = await creds('storm_neighbour');
    expect((await da.admin('POST', `/admin/devices/${revoked.device_id}/revoke`)).status).toBe(200);
  });

  afterAll(async () => {
    await da?.close();
    await db?.drop();
  });

  /** Real HTTP to device-auth, from `address` as the trusted proxy reports it; counts the sign-ins sent. */
  function viaSharedAddress() {
    const sent: Array<{ at: number; status: number }> = [];
    const f = (async (url: string | URL, init?: RequestInit) => {
      const res = await fetch(url, {
        ...init,
        headers: { ...(init?.headers as Record<string, string>), 'x-forwarded-for': address },
      });
      if (String(url).endsWith('/device/auth')) sent.push({ at: Date.now(), status: res.status });
      return res;
    }) as typeof fetch;
    return { fetch: f, sent };
  }

  const client = (d: { device_id: string; device_secret: string }, f: typeof fetch, events: DeviceClientEvent[] = []) =>
    new DeviceClient({
      baseUrl: da.url,
      deviceId: d.device_id,
      deviceSecret: d.device_secret,
      fetch: f,
      retryMs: 200,
      onEvent: (e) => events.push(e),
    });

  /** The neighbour signs in afresh, with the real client. */
  async function neighbourSignsIn(): Promise<boolean> {
    const c = client(neighbour, viaSharedAddress().fetch);
    try {
      await c.token();
      return true;
    } catch {
      return false;
    } finally {
      c.stop();
    }
  }

  it('throttles the revoked device, keeps its neighbour signing in, and aggregates the refusals', async () => {
    // A client that retries on a fixed short interval and ignores Retry-After (how the bundled client behaved).
    const storm: number[] = [];
    const healthy: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await http('POST', `${da.url}/device/auth`, { headers: { 'x-forwarded-for': address }, json: revoked });
      storm.push(r.status);
      if (i % 5 === 4) healthy.push(await neighbourSignsIn());
      await new Promise((res) => setTimeout(res, 25));
    }
    expect(storm.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(storm.slice(5, 8)).toEqual([429, 429, 429]);
    expect(healthy).toEqual([true, true, true, true]);

    // One row per device, address and window (at most two: the storm may straddle a window edge), with counts.
    const [rows] = await sql<{ attempts: number; client_ip: string; window_start: Date }>(
      db.url,
      `SELECT attempts, client_ip, window_start FROM device_auth_attempts WHERE device_id = '${revoked.device_id}' AND reason = 'throttled_device'`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows.every((r) => r.client_ip === address && r.window_start instanceof Date)).toBe(true);
    // Every 429 after the one that went over the limit (that one is on record as its own failure).
    const refusedBeforeCheck = storm.filter((s) => s === 429).length - 1;
    expect(rows.reduce((n, r) => n + r.attempts, 0)).toBe(refusedBeforeCheck);
    expect(refusedBeforeCheck).toBeGreaterThan(5);
  });

  it('the real device client backs off (honouring Retry-After) and stops after repeated refusals', async () => {
    const events: DeviceClientEvent[] = [];
    const { fetch: f, sent } = viaSharedAddress();
    const c = client(revoked, f, events);
    const outcome = await c.start().then(
      () => 'signed in',
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(DeviceCredentialsRefused);
    expect(events.at(-1)).toEqual({ type: 'stopped', reason: 'credentials_refused', refusals: 3 });
    const statuses = sent.map((s) => s.status);
    // Still blocked from the storm above (429s, each retried no sooner than Retry-After), then three 401s.
    expect(statuses.slice(-3)).toEqual([401, 401, 401]);
    expect(statuses.slice(0, -3).every((s) => s === 429)).toBe(true);
    expect(statuses.length).toBeLessThanOrEqual(5);
    const retries = events.filter(
      (e): e is Extract<DeviceClientEvent, { type: 'retry_scheduled' }> => e.type === 'retry_scheduled',
    );
    for (const r of retries.filter((x) => x.status === 429)) expect(r.inMs).toBeGreaterThanOrEqual(1000);
    const after401 = retries.filter((x) => x.status === 401).map((x) => x.inMs);
    expect(after401).toHaveLength(2);
    // The second wait after a refusal is drawn from a doubled range: [200, 400] ms, then [400, 800] ms (or more, for backoff).
    expect(after401[0]).toBeGreaterThanOrEqual(100);
    expect(after401[1]).toBeGreaterThanOrEqual(200);

    // Stopped means stopped: nothing more is sent, and its neighbour is unaffected.
    const count = sent.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(sent.length).toBe(count);
    await expect(c.token()).rejects.toBeInstanceOf(DeviceCredentialsRefused);
    expect(sent.length).toBe(count);
    expect(await neighbourSignsIn()).toBe(true);
  });
});
