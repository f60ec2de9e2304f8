/**
 * The production shape on one machine: two replicas of every stateless app (and two bot-control processes),
 * each its own built process on its own port, against one NATS and one Postgres whose schema came from the
 * migration command — not from an app's start. Replay protection, rate limits and revocation must hold
 * across replicas, since a load balancer sends each request to any of them.
 */
import { signRequest } from '@portcullis/auth';
import { BotSessionEvent, Subjects } from '@portcullis/contracts';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, NatsConnection } from 'nats';
import { createTestDatabase, deleteBucket, randomClientIp, sql, uniqueDeviceId } from '../support/device-auth';
import { canary, NATS_URL } from '../support/env';
import { FakeDaily } from '../support/fake-providers';
import { http, waitFor } from '../support/http';
import { AppProcess, ROOT, spawnApp } from '../support/processes';

const run = promisify(execFile);

/** Eight processes boot on a two-core machine that runs other test files at the same time. */
const READY_WITHIN_MS = 60000;

describe('two replicas of every app against one NATS and one Postgres', () => {
  const botSecret = canary('replica-bot');
  const adminKey = canary('replica-admin');
  const pepper = canary('replica-pepper');
  const gwPepper = canary('replica-gw-pepper');
  const providerKey = canary('replica-provider');
  const bucket = `pc_test_replicas_${randomBytes(5).toString('hex')}`;
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
  const daily = new FakeDaily([providerKey]);
  const procs: AppProcess[] = [];
  const dataDirs: string[] = [];
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let migrateOutput = '';
  let nc: NatsConnection;
  let bot: AppProcess[];
  let proxy: AppProcess[];
  let da: AppProcess[];
  let gw: AppProcess[];

  const admin = (i: number, method: string, path: string, json?: unknown) =>
    http(method, `${da[i].url}${path}`, { headers: { 'x-portcullis-api-key': adminKey }, json });
  /** A registered device and a token for it, from two different device-auth replicas. */
  const device = async (label: string) => {
    const deviceId = uniqueDeviceId(label);
    const reg = await admin(0, 'POST', '/admin/devices', {
      device_id: deviceId,
      customer_id: 'cust_replica',
      name: label,
    });
    expect(reg.status).toBe(201);
    const secret = reg.body.device_secret as string;
    const auth = await http('POST', `${da[1].url}/device/auth`, {
      headers: { 'x-forwarded-for': randomClientIp() },
      json: { device_id: deviceId, device_secret: secret },
    });
    expect(auth.status).toBe(200);
    return { deviceId, secret, token: auth.body.access_token as string };
  };
  const joinVia = (i: number, token: string, requestId = `replica-${randomBytes(4).toString('hex')}`) =>
    http('POST', `${proxy[i].url}/api/bot/join`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId },
      json: { room_url: `https://example.daily.co/replica-${randomBytes(4).toString('hex')}` },
    });

  // One process at a time: the machine has two cores, and a boot starved of CPU would miss its readiness window.
  const twice = async (app: string, env: (i: number) => Record<string, string>): Promise<AppProcess[]> => {
    const pair: AppProcess[] = [];
    for (const i of [0, 1]) {
      const p = await spawnApp(app, { NATS_URL, LOG_LEVEL: 'info', ...env(i) }, { readyWithinMs: READY_WITHIN_MS });
      procs.push(p);
      pair.push(p);
    }
    return pair;
  };

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    db = await createTestDatabase('replicas');
    // The migration step of compose and the Kubernetes Job, run as they run it.
    migrateOutput = (
      await run('sh', [join(ROOT, 'deploy', 'migrate.sh')], { env: { PATH: process.env.PATH, DATABASE_URL: db.url } })
    ).stdout;
    await daily.start();
    bot = await twice('bot-control', () => ({
      BOT_CONTROL_SHARED_SECRET: botSecret,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_SIGNATURE_REQUIRED: '1',
    }));
    da = await twice('device-auth', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pc-replica-'));
      dataDirs.push(dir);
      return {
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        DEVICE_AUTH_MIGRATE_ON_START: '0',
        PORTCULLIS_DATA_DIR: dir,
        DEVICE_AUTH_PEPPER: pepper,
        DEVICE_AUTH_SIGNING_KEY: signingKey,
        PORTCULLIS_ADMIN_API_KEY: adminKey,
        TRUSTED_PROXIES: '127.0.0.1',
        DEVICE_AUTH_RATE_LIMIT: '3',
        DEVICE_AUTH_RATE_LIMIT_BUCKET: bucket,
      };
    });
    gw = await twice('room-gateway', () => ({
      ROOM_GATEWAY_KEY_PEPPER: gwPepper,
      DAILY_API_BASE_URL: daily.baseUrl,
      TRUSTED_PROXIES: '127.0.0.1',
      ROOM_GATEWAY_RATE_LIMIT_PER_KEY: '3',
      ROOM_GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '60',
    }));
    // Each proxy in front of "the" bot-control, as a Service would route them; callers need a device token.
    proxy = await twice('interface-proxy', (i) => ({
      BOT_CONTROL_BASE_URL: bot[i].url,
      BOT_CONTROL_SHARED_SECRET: botSecret,
      BOT_CONTROL_SIGNATURE_REQUIRED: '1',
      INTERFACE_AUTH_REQUIRED: '1',
      DEVICE_AUTH_URL: da[i].url,
    }));
  }, 300000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    const output = procs.map((p) => p.output.join('')).join('\n');
    for (const s of [botSecret, adminKey, pepper, gwPepper, providerKey]) expect(output).not.toContain(s);
    await daily.stop();
    await deleteBucket(bucket);
    await db?.drop();
    await nc?.close();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  });

  it('gets its schema from the migration command, which is safe to run again', async () => {
    expect(migrateOutput).toMatch(/applied [1-9]\d* migration\(s\)/);
    const [tables] = await sql<{ table_name: string }>(
      db.url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['devices', 'device_auth_migrations', 'signaling_rooms', 'room_gateway_migrations']),
    );
    // Run again (a re-applied Job): nothing left to do for any app.
    const again = (
      await run('sh', [join(ROOT, 'deploy', 'migrate.sh')], { env: { PATH: process.env.PATH, DATABASE_URL: db.url } })
    ).stdout;
    expect(
      again
        .trim()
        .split('\n')
        .every((l) => l === 'applied 0 migration(s)'),
    ).toBe(true);
    // Without a database URL the step fails, so a Job or compose dependency never reports a false success.
    await expect(
      run('sh', [join(ROOT, 'deploy', 'migrate.sh')], { env: { PATH: process.env.PATH } }),
    ).rejects.toMatchObject({ code: 1 });
  });

  describe('bot-control nonces', () => {
    const body = () =>
      JSON.stringify({ room_url: `https://example.daily.co/replica-${randomBytes(4).toString('hex')}` });

    it('a signed request replayed at the other replica is refused', async () => {
      const b = body();
      const headers = {
        ...signRequest(botSecret, { method: 'POST', pathWithQuery: '/join', body: b }),
        'content-type': 'application/json',
      };
      expect((await http('POST', `${bot[0].url}/join`, { headers, body: b })).status).toBe(200);
      const replay = await http('POST', `${bot[1].url}/join`, { headers, body: b });
      expect(replay.status).toBe(401);
      expect(replay.text).toBe('{"detail":"unauthorized"}');
      // The other way round too.
      const c = body();
      const h2 = {
        ...signRequest(botSecret, { method: 'POST', pathWithQuery: '/join', body: c }),
        'content-type': 'application/json',
      };
      expect((await http('POST', `${bot[1].url}/join`, { headers: h2, body: c })).status).toBe(200);
      expect((await http('POST', `${bot[0].url}/join`, { headers: h2, body: c })).status).toBe(401);
    });

    it('both proxies sign fresh requests, and the request id reaches the bot event on NATS', async () => {
      const sub = nc.subscribe(Subjects.botSessionStarted);
      const seen: BotSessionEvent[] = [];
      void (async () => {
        for await (const m of sub)
          seen.push((JSON.parse(new TextDecoder().decode(m.data)) as { data: BotSessionEvent }).data);
      })();
      await nc.flush();
      const { token } = await device('replica_proxy');
      for (const i of [0, 1]) {
        const id = `replica-${i}-${randomBytes(4).toString('hex')}`;
        // A proxy accepts device tokens once it holds device-auth's revocation snapshot.
        const res = await waitFor(
          async () => {
            const r = await joinVia(i, token, id);
            return r.status === 401 ? undefined : r;
          },
          10000,
          100,
        );
        expect(res.status).toBe(200);
        const event = await waitFor(() => seen.find((e) => e.request_id === id));
        expect(event.pid).toBe(res.body.pid);
      }
      sub.unsubscribe();
    });
  });

  describe('rate limits', () => {
    it('device-auth /device/auth: one window per device and address, counted across replicas', async () => {
      const deviceId = uniqueDeviceId('replica_rl');
      const from = randomClientIp();
      const attempt = (i: number, secret = 'ds_wrong') =>
        http('POST', `${da[i % 2].url}/device/auth`, {
          headers: { 'x-forwarded-for': from },
          json: { device_id: deviceId, device_secret: secret },
        });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await attempt(i)).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      // Another address and device is unaffected.
      const other = await http('POST', `${da[1].url}/device/auth`, {
        headers: { 'x-forwarded-for': randomClientIp() },
        json: { device_id: uniqueDeviceId('replica_rl2'), device_secret: 'ds_wrong' },
      });
      expect(other.status).toBe(401);
    });

    it('room-gateway: one provider key is limited across replicas', async () => {
      const create = (i: number) =>
        http('POST', `${gw[i % 2].url}/api/rooms/create`, {
          headers: { 'x-provider-auth': `Bearer ${providerKey}`, 'x-forwarded-for': randomClientIp() },
          json: { profile: 'conversation' },
        });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await create(i)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(daily.received.filter((r) => r.method === 'POST')).toHaveLength(3);
    });
  });

  it('revocation at one device-auth replica holds at the other and at both proxies at once', async () => {
    const { deviceId, secret, token } = await device('replica_rev');
    const info = (i: number) =>
      http('GET', `${da[i].url}/device/info`, { headers: { authorization: `Bearer ${token}` } });
    expect((await info(0)).status).toBe(200);
    expect((await info(1)).status).toBe(200);
    for (const i of [0, 1])
      expect(await waitFor(async () => (await joinVia(i, token)).status === 200 || undefined, 10000, 100)).toBe(true);

    expect((await admin(1, 'POST', `/admin/devices/${deviceId}/revoke`)).status).toBe(200);
    expect((await info(0)).status).toBe(401);
    expect((await info(1)).status).toBe(401);
    // The proxies hear it over NATS: refused at once (2 s allows for a loaded CI machine), without asking device-auth per request.
    for (const i of [0, 1]) await waitFor(async () => (await joinVia(i, token)).status === 401, 2000, 10);
    expect(
      (await http('POST', `${da[0].url}/device/refresh`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401);
    const again = await http('POST', `${da[0].url}/device/auth`, {
      headers: { 'x-forwarded-for': randomClientIp() },
      json: { device_id: deviceId, device_secret: secret },
    });
    expect(again.status).toBe(401);
  });
});
