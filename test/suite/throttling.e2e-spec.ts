import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ThrottlerModule, ThrottlerOptions } from '@nestjs/throttler';
import { Public } from '@portcullis/auth';
import {
  appUrl,
  bootApp,
  createThrottlerStorage,
  JetStreamThrottlerStorage,
  MemoryThrottlerStorage,
  MeteredThrottlerGuard,
  NatsConnectionService,
  PlatformModule,
} from '@portcullis/platform';
import { connect, NatsConnection } from 'nats';
import { randomBytes } from 'node:crypto';
import { http } from '../support/http';
import { NATS_URL } from '../support/env';
import { LogCapture } from '../support/log-capture';

const bucket = `test_throttle_${randomBytes(6).toString('hex')}`;

describe('JetStreamThrottlerStorage against real NATS', () => {
  let a: NatsConnection;
  let b: NatsConnection;
  // Two "replicas": separate connections, separate storage instances, one bucket.
  let one: JetStreamThrottlerStorage;
  let two: JetStreamThrottlerStorage;

  beforeAll(async () => {
    a = await connect({ servers: NATS_URL });
    b = await connect({ servers: NATS_URL });
    one = new JetStreamThrottlerStorage(async () => a, bucket, 60_000);
    two = new JetStreamThrottlerStorage(async () => b, bucket, 60_000);
  });

  afterAll(async () => {
    await (await a.jetstreamManager()).streams.delete(`KV_${bucket}`).catch(() => undefined);
    await a.close();
    await b.close();
  });

  it('shares one count between two replicas and blocks for the block duration', async () => {
    const key = `k-${randomBytes(4).toString('hex')}`;
    const seen = [];
    for (let i = 0; i < 3; i++) {
      seen.push(await (i % 2 ? two : one).increment(key, 10_000, 3, 20_000, 'default'));
    }
    expect(seen.map((r) => r.totalHits)).toEqual([1, 2, 3]);
    expect(seen.every((r) => !r.isBlocked && r.timeToBlockExpire === 0)).toBe(true);
    expect(seen[0].timeToExpire).toBeGreaterThanOrEqual(9);
    expect(seen[0].timeToExpire).toBeLessThanOrEqual(10);
    const refused = await two.increment(key, 10_000, 3, 20_000, 'default');
    expect(refused).toMatchObject({ totalHits: 4, isBlocked: true });
    expect(refused.timeToBlockExpire).toBeGreaterThanOrEqual(19);
    expect(refused.timeToBlockExpire).toBeLessThanOrEqual(20);
    await expect(one.increment(key, 10_000, 3, 20_000, 'default')).resolves.toMatchObject({
      isBlocked: true,
      totalHits: 4,
    });
  });

  it('counts on from what another replica wrote since this one last counted', async () => {
    const key = `stale-${randomBytes(4).toString('hex')}`;
    await expect(one.increment(key, 10_000, 100, 0, 'default')).resolves.toMatchObject({ totalHits: 1 });
    for (let i = 2; i <= 4; i++)
      await expect(two.increment(key, 10_000, 100, 0, 'default')).resolves.toMatchObject({ totalHits: i });
    await expect(one.increment(key, 10_000, 100, 0, 'default')).resolves.toMatchObject({ totalHits: 5 });
  });

  it('loses no hit when replicas race on one key', async () => {
    const key = `race-${randomBytes(4).toString('hex')}`;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? two : one).increment(key, 30_000, 1000, 0, 'default')),
    );
    expect(results.map((r) => r.totalHits).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('loses no hit when two replicas each count one key many times at once', async () => {
    const key = `race-many-${randomBytes(4).toString('hex')}`;
    const perReplica = 30;
    const hammer = (s: JetStreamThrottlerStorage) =>
      Promise.all(Array.from({ length: perReplica }, () => s.increment(key, 30_000, 1000, 0, 'default')));
    await Promise.all([hammer(one), hammer(two)]);
    await expect(one.peek(key, 'default')).resolves.toMatchObject({ hits: 2 * perReplica });
  });

  it('starts a fresh count over a deleted entry', async () => {
    const del = `${bucket}_del`;
    const s = new JetStreamThrottlerStorage(async () => a, del, 60_000);
    try {
      await s.increment('k', 10_000, 1, 0, 'default');
      await expect(s.increment('k', 10_000, 1, 0, 'default')).resolves.toMatchObject({ isBlocked: true });
      // Deleting leaves a marker in the stream (an operator clearing a limit): the next hit writes over it.
      const kv = await a.jetstream().views.kv(del);
      for await (const k of await kv.keys()) await kv.delete(k);
      await expect(s.increment('k', 10_000, 1, 0, 'default')).resolves.toMatchObject({
        isBlocked: false,
        totalHits: 1,
      });
      await expect(s.increment('k', 10_000, 1, 0, 'default')).resolves.toMatchObject({ isBlocked: true, totalHits: 2 });
    } finally {
      await (await a.jetstreamManager()).streams.delete(`KV_${del}`).catch(() => undefined);
    }
  });

  it('starts over once the window has passed', async () => {
    const key = `exp-${randomBytes(4).toString('hex')}`;
    await one.increment(key, 300, 1, 0, 'default');
    await expect(two.increment(key, 300, 1, 0, 'default')).resolves.toMatchObject({
      isBlocked: true,
      timeToBlockExpire: 1,
    });
    await new Promise((r) => setTimeout(r, 350));
    await expect(two.increment(key, 300, 1, 0, 'default')).resolves.toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('keeps throttler names apart and refuses a window longer than the bucket keeps entries', async () => {
    const key = `names-${randomBytes(4).toString('hex')}`;
    await one.increment(key, 10_000, 1, 0, 'ip');
    await expect(one.increment(key, 10_000, 1, 0, 'key')).resolves.toMatchObject({ totalHits: 1 });
    await expect(one.increment(key, 120_000, 1, 0, 'ip')).rejects.toThrow(/max age/);
  });

  it('expires idle entries through the bucket max age', async () => {
    const short = `${bucket}_short`;
    const s = new JetStreamThrottlerStorage(async () => a, short, 1_000);
    try {
      await s.increment('idle', 500, 10, 0, 'default');
      const kv = await a.jetstream().views.kv(short);
      const keys = async () => {
        const out = [];
        for await (const k of await kv.keys()) out.push(k);
        return out;
      };
      expect(await keys()).toHaveLength(1);
      // Kept on disk, so a NATS restart does not hand every client a fresh budget (docs/nats.md).
      expect((await (await a.jetstreamManager()).streams.info(`KV_${short}`)).config.storage).toBe('file');
      await new Promise((r) => setTimeout(r, 1_600));
      expect(await keys()).toHaveLength(0);
    } finally {
      await (await a.jetstreamManager()).streams.delete(`KV_${short}`).catch(() => undefined);
    }
  });
});

describe('createThrottlerStorage', () => {
  it('uses JetStream when NATS is configured and memory only without it', () => {
    expect(createThrottlerStorage(new NatsConnectionService(NATS_URL, 't'), bucket, 1000)).toBeInstanceOf(
      JetStreamThrottlerStorage,
    );
    expect(createThrottlerStorage(new NatsConnectionService(undefined, 't'), bucket, 1000)).toBeInstanceOf(
      MemoryThrottlerStorage,
    );
  });
});

@Controller('limited')
class LimitedController {
  @Public()
  @Get()
  hit(): { ok: true } {
    return { ok: true };
  }
}

/** An app whose one route sits behind MeteredThrottlerGuard with `throttlers`, counted in the JetStream bucket `${bucket}_${suffix}`. */
@Module({})
class LimitedModule {
  static forRoot(app: string, suffix: string, throttlers: ThrottlerOptions[]) {
    return {
      module: LimitedModule,
      imports: [
        PlatformModule.forRoot({ app, logLevel: 'warn', logStream: new LogCapture(), natsUrl: NATS_URL }),
        ThrottlerModule.forRootAsync({
          inject: [NatsConnectionService],
          useFactory: (nats: NatsConnectionService) => ({
            throttlers,
            storage: createThrottlerStorage(nats, `${bucket}_${suffix}`, 60_000),
          }),
        }),
      ],
      controllers: [LimitedController],
      providers: [{ provide: APP_GUARD, useClass: MeteredThrottlerGuard }],
    };
  }
}

async function dropBucket(suffix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  await (await nc.jetstreamManager()).streams.delete(`KV_${bucket}_${suffix}`).catch(() => undefined);
  await nc.close();
}

describe('MeteredThrottlerGuard across two app instances', () => {
  const apps: NestFastifyApplication[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const module = LimitedModule.forRoot('throttle-test', 'app', [
        { name: 'ip', ttl: 10_000, limit: 2, blockDuration: 5_000 },
      ]);
      apps.push(await bootApp(module, { app: 'throttle-test', port: 0, host: '127.0.0.1', microservice: false }));
    }
  });

  afterAll(async () => {
    await dropBucket('app');
    for (const app of apps) await app.close();
  });

  it('answers 429 with Retry-After once the shared limit is spent and counts it', async () => {
    const [u1, u2] = await Promise.all(apps.map((app) => appUrl(app)));
    expect((await http('GET', `${u1}/limited`)).status).toBe(200);
    expect((await http('GET', `${u2}/limited`)).status).toBe(200);
    const refused = await http('GET', `${u1}/limited`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(4);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(5);
    expect((await http('GET', `${u2}/limited`)).status).toBe(429);
    const metrics = (await http('GET', `${u1}/metrics`)).text;
    expect(metrics).toMatch(/portcullis_throttled_requests_total\{app="throttle-test",route="\/limited"\} 1/);
  });
});

describe('MeteredThrottlerGuard with two named limits', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const module = LimitedModule.forRoot('throttle-two', 'two', [
      { name: 'narrow', ttl: 10_000, limit: 2 },
      { name: 'wide', ttl: 10_000, limit: 3 },
    ]);
    app = await bootApp(module, { app: 'throttle-two', port: 0, host: '127.0.0.1', microservice: false });
  });

  afterAll(async () => {
    await dropBucket('two');
    await app.close();
  });

  it('counts requests against both limits, refuses over either, and counts each refused request once', async () => {
    const url = await appUrl(app);
    const first = await http('GET', `${url}/limited`);
    expect(first.status).toBe(200);
    expect([
      first.headers.get('x-ratelimit-remaining-narrow'),
      first.headers.get('x-ratelimit-remaining-wide'),
    ]).toEqual(['1', '2']);
    expect((await http('GET', `${url}/limited`)).status).toBe(200);
    // Over "narrow" only, then over both: two refused requests.
    expect((await http('GET', `${url}/limited`)).status).toBe(429);
    expect((await http('GET', `${url}/limited`)).status).toBe(429);
    const metrics = (await http('GET', `${url}/metrics`)).text;
    expect(metrics).toMatch(/portcullis_throttled_requests_total\{app="throttle-two",route="\/limited"\} 2/);
  });
});
