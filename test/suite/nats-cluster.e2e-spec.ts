import { signRequest } from '@portcullis/auth';
import { KvBuckets } from '@portcullis/contracts';
import { randomBytes } from 'node:crypto';
import { connect, NatsConnection } from 'nats';
import type { BotControlConfig } from '../../apps/bot-control/src';
import { runBotControl, Running } from '../support/apps';
import {
  createTestDatabase,
  randomClientIp,
  RunningDeviceAuth,
  startTestDeviceAuth,
  uniqueDeviceId,
} from '../support/device-auth';
import { canary } from '../support/env';
import { http, waitFor } from '../support/http';
import { NatsCluster } from '../support/nats-server';

/**
 * Apps connected to a three-node JetStream cluster with every bucket
 * replicated three times: losing one node (the nonce bucket's leader) under
 * load keeps nonces single-use, rate limits counting and revocations arriving.
 */
describe('a three-node NATS cluster losing a node', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let da: RunningDeviceAuth;
  let bot: Running<BotControlConfig>;
  const secret = canary('cluster-secret');
  const issuer = `cluster-issuer-${randomBytes(4).toString('hex')}`;
  const limitsBucket = 'pc_cluster_device_limits';
  const statuses: number[] = [];
  let loading = false;
  let load: Promise<void> | undefined;

  const signedLeave = () => {
    const path = `/sessions/${900000 + Math.floor(Math.random() * 99999)}/leave`;
    const headers = signRequest(secret, { method: 'POST', pathWithQuery: path, body: '' });
    return () => http('POST', `${bot.url}${path}`, { headers });
  };
  const sessionsWith = (token: string) =>
    http('GET', `${bot.url}/sessions`, { headers: { authorization: `Bearer ${token}` } });
  /** A sign-in from an address of its own, so only the per-device count decides. */
  const signIn = (id: string, sec: string) =>
    da.call('POST', '/device/auth', {
      json: { device_id: id, device_secret: sec },
      headers: { 'x-forwarded-for': randomClientIp() },
    });
  const streamInfo = async (bucket: string) => await (await nc.jetstreamManager()).streams.info(`KV_${bucket}`);

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    nc = await connect({ servers: cluster.nodes.map((n) => n.url) });
    db = await createTestDatabase('nats_cluster');
    const common = { NATS_URL: cluster.url, NATS_KV_REPLICAS: '3' };
    da = await startTestDeviceAuth({
      databaseUrl: db.url,
      env: { ...common, DEVICE_AUTH_ISSUER: issuer, DEVICE_AUTH_RATE_LIMIT_BUCKET: limitsBucket },
    });
    bot = await runBotControl({
      ...common,
      BOT_CONTROL_SHARED_SECRET: secret,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_SIGNATURE_REQUIRED: '1',
      BOT_CONTROL_EVENTS_AUTH_REQUIRED: '1',
      DEVICE_AUTH_URL: da.url,
      DEVICE_AUTH_ISSUER: issuer,
      DEVICE_AUTH_AUDIENCE: da.cfg.audience,
    });
    for (const u of [da.url, bot.url])
      await waitFor(async () => (await http('GET', `${u}/health/ready`)).status === 200, 15000);
    loading = true;
    load = (async () => {
      while (loading) {
        const rs = await Promise.allSettled([
          signedLeave()(),
          http('POST', `${da.url}/device/auth`, {
            headers: { 'x-forwarded-for': randomClientIp() },
            json: { device_id: uniqueDeviceId('load'), device_secret: 'x'.repeat(20) },
          }),
        ]);
        for (const r of rs) if (r.status === 'fulfilled') statuses.push(r.value.status);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  });

  afterAll(async () => {
    loading = false;
    await load;
    await bot?.close();
    await da?.close();
    await db?.drop();
    await nc?.close();
    await cluster?.close();
  });

  it('replicates every bucket to all three nodes', async () => {
    for (const b of [KvBuckets.botNonces, limitsBucket]) {
      const si = await streamInfo(b);
      expect(si.config.num_replicas).toBe(3);
      expect(si.config.storage).toBe('file');
    }
  });

  it('keeps replay refused, limits counting and revocation working with one node down', async () => {
    const keptId = uniqueDeviceId('cl_keep');
    const revokedId = uniqueDeviceId('cl_rev');
    const keptSecret = (await da.register(keptId)).device_secret;
    const revokedSecret = (await da.register(revokedId)).device_secret;
    // Two of the device's five sign-ins per window, before the node goes.
    const keptToken = (await signIn(keptId, keptSecret)).body.access_token as string;
    expect((await signIn(keptId, keptSecret)).status).toBe(200);
    const revokedToken = (await da.authenticate(revokedId, revokedSecret)).body.access_token as string;
    await waitFor(async () => (await sessionsWith(revokedToken)).status === 200, 10000);
    const spent = signedLeave();
    expect((await spent()).status).toBe(404);

    // Stop the node that leads the nonce bucket: its clients fail over, the stream elects a new leader.
    const leader = (await streamInfo(KvBuckets.botNonces)).cluster?.leader;
    const victim = cluster.nodes.find((n) => n.name === leader) ?? cluster.nodes[0];
    await victim.kill9();

    await waitFor(async () => (await signedLeave()()).status === 404, 20000, 100);
    expect((await spent()).status).toBe(401);
    expect((await http('GET', `${bot.url}/health/ready`)).status).toBe(200);

    // Sign-ins 3, 4 and 5 pass; the sixth is over the limit the surviving nodes remember.
    const signIns: number[] = [];
    for (let i = 0; i < 4; i++) signIns.push((await signIn(keptId, keptSecret)).status);
    expect(signIns).toEqual([200, 200, 200, 429]);

    expect((await da.admin('POST', `/admin/devices/${revokedId}/revoke`)).status).toBe(200);
    await waitFor(async () => (await sessionsWith(revokedToken)).status === 401, 10000, 50);
    expect((await sessionsWith(keptToken)).status).toBe(200);

    // The node comes back and catches up; nothing the others did is undone.
    await victim.restart();
    await victim.waitJetStream(30000);
    expect((await spent()).status).toBe(401);
    expect((await signIn(keptId, keptSecret)).status).toBe(429);
  });

  it('never answered 500 under load', () => {
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
  });
});
