import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { appUrl } from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import { loadRoomGatewayConfig, startRoomGateway } from '../../apps/room-gateway/src';
import { canary, NATS_URL } from '../support/env';
import { FakeDaily } from '../support/fake-providers';
import { http } from '../support/http';
import { LogCapture } from '../support/log-capture';

const keys = [canary('rl1'), canary('rl2'), canary('rl3'), canary('rl4'), canary('rl5'), canary('rl6'), canary('rl7')];
const daily = new FakeDaily(keys);
const logs = new LogCapture();
const ip = () => `10.${randomBytes(3).join('.')}`;
const apps: NestFastifyApplication[] = [];
let urls: string[] = [];

const env = (natsUrl?: string) => ({
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'debug',
  NATS_URL: natsUrl,
  TRUSTED_PROXIES: '127.0.0.1',
  DAILY_API_BASE_URL: daily.baseUrl,
  // Replicas share the pepper, so one key has one fingerprint everywhere.
  ROOM_GATEWAY_KEY_PEPPER: 'a-shared-pepper-of-at-least-32-bytes-long',
  ROOM_GATEWAY_RATE_LIMIT_PER_KEY: '3',
  ROOM_GATEWAY_RATE_LIMIT_PER_IP: '5',
  ROOM_GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '30',
});

const create = (base: string, key: string, from: string) =>
  http('POST', `${base}/api/rooms/create`, {
    headers: { 'x-provider-auth': `Bearer ${key}`, 'x-forwarded-for': from },
    json: { profile: 'conversation' },
  });

beforeAll(async () => {
  await daily.start();
  for (let i = 0; i < 2; i++)
    apps.push(await startRoomGateway(loadRoomGatewayConfig(env(NATS_URL)), { logStream: logs }));
  urls = await Promise.all(apps.map((a) => appUrl(a)));
});

afterAll(async () => {
  for (const a of apps) await a.close();
  await daily.stop();
});

describe('room-gateway rate limits shared by two replicas over NATS', () => {
  it('limits one key across replicas and addresses, with 429 and Retry-After', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await create(urls[i % 2], keys[0], ip())).status);
    expect(statuses).toEqual([200, 200, 200]);
    const refused = await create(urls[1], keys[0], ip());
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ detail: 'rate limit exceeded' });
    const retryAfter = Number(refused.headers.get('retry-after-key'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(refused.headers.get('retry-after')).toBe(String(retryAfter));
    expect((await create(urls[0], keys[0], ip())).status).toBe(429);
    // The provider saw only the allowed requests; another key is unaffected.
    expect(daily.received).toHaveLength(3);
    expect((await create(urls[0], keys[1], ip())).status).toBe(200);
  });

  it('limits one client address across replicas and keys', async () => {
    const from = ip();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await create(urls[i % 2], keys[2 + (i % 4)], from)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await create(urls[0], keys[4], from);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await create(urls[0], keys[5], ip())).status).toBe(200);
  });

  it('counts refusals in /metrics and keeps keys out of every log line', async () => {
    const metrics = (await http('GET', `${urls[0]}/metrics`)).text + (await http('GET', `${urls[1]}/metrics`)).text;
    const counted = [
      ...metrics.matchAll(/portcullis_throttled_requests_total\{[^}]*route="\/api\/rooms\/create"\} (\d+)/g),
    ].map((m) => Number(m[1]));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(4);
    for (const k of keys) expect(logs.text).not.toContain(k);
  });
});

describe('room-gateway rate limits without NATS (all-in-one)', () => {
  it('still limits within the one process', async () => {
    const solo = await startRoomGateway(loadRoomGatewayConfig(env(undefined)), { logStream: new LogCapture() });
    try {
      const base = await appUrl(solo);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await create(base, keys[6], ip())).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await solo.close();
    }
  });
});
