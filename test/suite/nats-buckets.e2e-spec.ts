import { JetStreamNonceStore, signRequest } from '@portcullis/auth';
import { KvBuckets } from '@portcullis/contracts';
import { JetStreamThrottlerStorage } from '@portcullis/platform';
import { connect, NatsConnection, StorageType } from 'nats';
import type { BotControlConfig } from '../../apps/bot-control/src';
import { runBotControl, Running } from '../support/apps';
import { canary } from '../support/env';
import { http, waitFor } from '../support/http';
import { NatsServer } from '../support/nats-server';

/** How buckets are bound: max age widened for the replica that needs longer, old storage migrated, replicas raised. */
describe('JetStream bucket binding', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const info = async (bucket: string) => (await (await nc.jetstreamManager()).streams.info(`KV_${bucket}`)).config;

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.close();
  });

  describe('nonce lifetime across bot-control replicas with different skew windows', () => {
    const secret = canary('skew-secret');
    const apps: Running<BotControlConfig>[] = [];
    const start = (skew: number) =>
      runBotControl({
        NATS_URL: nats.url,
        BOT_CONTROL_SHARED_SECRET: secret,
        BOT_CONTROL_AUTH_REQUIRED: '1',
        BOT_CONTROL_SIGNATURE_REQUIRED: '1',
        BOT_CONTROL_SIGNATURE_SKEW_SECONDS: String(skew),
      }).then((a) => (apps.push(a), a));
    const leave = (base: string, headers: Record<string, string>) =>
      http('POST', `${base}/sessions/987654/leave`, { headers });

    afterAll(async () => {
      for (const a of apps) await a.close();
    });

    it('widens the bucket max age when a replica with a longer window joins, and never narrows it', async () => {
      const short = await start(300);
      await leave(
        short.url,
        signRequest(secret, { method: 'POST', pathWithQuery: '/sessions/987654/leave', body: '' }),
      );
      expect((await info(KvBuckets.botNonces)).max_age).toBe(600 * 1e9);

      const long = await start(3600);
      // Bound at boot: the bucket now keeps nonces as long as the long-window replica accepts their timestamps.
      expect((await http('GET', `${long.url}/health/ready`)).status).toBe(200);
      expect((await info(KvBuckets.botNonces)).max_age).toBe(7200 * 1e9);

      // A nonce spent at one replica is spent at the other, both ways.
      const h1 = signRequest(secret, { method: 'POST', pathWithQuery: '/sessions/987654/leave', body: '' });
      expect((await leave(long.url, h1)).status).toBe(404);
      expect((await leave(short.url, h1)).status).toBe(401);
      const h2 = signRequest(secret, { method: 'POST', pathWithQuery: '/sessions/987654/leave', body: '' });
      expect((await leave(short.url, h2)).status).toBe(404);
      expect((await leave(long.url, h2)).status).toBe(401);

      // Another short-window replica binding later leaves the longer age alone.
      const again = await start(300);
      expect((await http('GET', `${again.url}/health/ready`)).status).toBe(200);
      expect((await info(KvBuckets.botNonces)).max_age).toBe(7200 * 1e9);
      expect(long.logs.text).toContain('widening it');
    });
  });

  it('moves a nonce bucket made with memory storage to file storage, keeping the nonces spent', async () => {
    const bucket = `pc_test_nonces_${Date.now().toString(36)}`;
    // As the previous release created it.
    const old = await nc.jetstream().views.kv(bucket, { ttl: 600_000, history: 1, storage: StorageType.Memory });
    await old.create('spent-before-the-upgrade-000', new Uint8Array([1]));
    const store = new JetStreamNonceStore(async () => nc, bucket, 600_000);
    expect(await store.claim('spent-before-the-upgrade-000')).toBe(false);
    expect((await info(bucket)).storage).toBe('file');
    expect(await store.claim('fresh-nonce-after-upgrade-0')).toBe(true);
    expect(await store.claim('fresh-nonce-after-upgrade-0')).toBe(false);
    // A second replica binding the migrated bucket changes nothing.
    const other = new JetStreamNonceStore(async () => nc, bucket, 600_000);
    expect(await other.claim('spent-before-the-upgrade-000')).toBe(false);
    expect(await other.claim('fresh-nonce-after-upgrade-0')).toBe(false);
  });

  it('moves a rate-limit bucket made with memory storage to file storage, keeping its counts', async () => {
    const bucket = `pc_test_limits_${Date.now().toString(36)}`;
    await nc.jetstream().views.kv(bucket, { ttl: 60_000, history: 1, storage: StorageType.Memory });
    // Counts made through the previous release's storage layout.
    const before = new JetStreamThrottlerStorage(async () => nc, bucket, 60_000, { storage: 'memory' });
    for (let i = 0; i < 3; i++) await before.increment('client', 60_000, 5, 60_000, 't');
    expect((await info(bucket)).storage).toBe('memory');

    const after = new JetStreamThrottlerStorage(async () => nc, bucket, 60_000);
    expect((await after.increment('client', 60_000, 5, 60_000, 't')).totalHits).toBe(4);
    expect((await info(bucket)).storage).toBe('file');
    expect((await after.increment('client', 60_000, 5, 60_000, 't')).isBlocked).toBe(false);
    expect((await after.increment('client', 60_000, 5, 60_000, 't')).isBlocked).toBe(true);
  });

  it('moves a bucket once when two replicas find it with the old storage at the same time', async () => {
    const bucket = `pc_test_race_${Date.now().toString(36)}`;
    const old = await nc.jetstream().views.kv(bucket, { ttl: 600_000, history: 1, storage: StorageType.Memory });
    const spent = Array.from({ length: 300 }, (_, i) => `spent-nonce-${String(i).padStart(6, '0')}`);
    await Promise.all(spent.map((n) => old.create(n, new Uint8Array([1]))));
    const a = new JetStreamNonceStore(async () => nc, bucket, 600_000);
    const b = new JetStreamNonceStore(async () => nc, bucket, 600_000);
    // The replica that does not hold the migration lock is refused for now (503), never handed a half-moved bucket.
    const first = await Promise.allSettled([a.kv.bound(), b.kv.bound()]);
    expect(first.some((r) => r.status === 'fulfilled')).toBe(true);
    await waitFor(async () => (await Promise.all([a.kv.probe(), b.kv.probe()])).every(Boolean), 10000, 50);
    expect((await info(bucket)).storage).toBe('file');
    const verdicts = await Promise.all(spent.flatMap((n) => [a.claim(n), b.claim(n)]));
    expect(verdicts.filter(Boolean)).toEqual([]);
    expect((await (await nc.jetstreamManager()).streams.info(`KV_${bucket}`)).state.messages).toBe(spent.length);
  });

  it('answers KvUnavailable, never a verdict, when the bucket cannot be bound', async () => {
    const store = new JetStreamNonceStore(async () => nc, 'pc_test_unbindable', 600_000, { replicas: 3 });
    // A single server cannot hold three replicas: the claim is refused as an outage.
    await expect(store.claim('some-nonce-value-000000')).rejects.toMatchObject({
      name: 'KvUnavailable',
      code: 'KV_UNAVAILABLE',
    });
    expect(await store.kv.probe()).toBe(false);
  });

  it('is not ready while connected to NATS but unable to use its bucket, and answers 503 then', async () => {
    const secret = canary('unready-secret');
    await (await nc.jetstreamManager()).streams.delete(`KV_${KvBuckets.botNonces}`).catch(() => false);
    const app = await runBotControl({
      NATS_URL: nats.url,
      // More replicas than this single server can hold: connected, yet the nonce bucket cannot be made.
      NATS_KV_REPLICAS: '3',
      BOT_CONTROL_SHARED_SECRET: secret,
      BOT_CONTROL_AUTH_REQUIRED: '1',
      BOT_CONTROL_SIGNATURE_REQUIRED: '1',
      BOT_CONTROL_SIGNATURE_SKEW_SECONDS: '120',
    });
    try {
      const ready = await http('GET', `${app.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body.details.nats).toEqual({
        status: 'down',
        transport: 'nats',
        buckets: { [KvBuckets.botNonces]: 'down' },
      });
      const path = '/sessions/987654/leave';
      const res = await http('POST', `${app.url}${path}`, {
        headers: signRequest(secret, { method: 'POST', pathWithQuery: path, body: '' }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      await app.close();
    }
  });
});
