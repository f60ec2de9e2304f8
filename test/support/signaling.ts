import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AdminKeySource } from '@portcullis/auth';
import { appUrl } from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { loadRoomGatewayConfig, startRoomGateway } from '../../apps/room-gateway/src';
import { createTestDatabase, RunningDeviceAuth, startTestDeviceAuth } from './device-auth';
import { canary, NATS_URL } from './env';
import { http, HttpResult, waitFor } from './http';
import { LogCapture } from './log-capture';

export interface TestDevice {
  id: string;
  secret: string;
  token: string;
}

export interface SignalingStack {
  deviceAuth: RunningDeviceAuth;
  gateway: NestFastifyApplication;
  gatewayUrl: string;
  wsBase: string;
  logs: LogCapture;
  roomTokenKey: string;
  /** The suite's one admin key: device-auth's, and room-gateway's PORTCULLIS_ADMIN_API_KEY. */
  adminKey: string;
  device(label: string, customerId?: string): Promise<TestDevice>;
  /** A second room-gateway on the same database and NATS (another replica), its environment changed by `env`. */
  replica(change?: {
    env?: Record<string, string | undefined>;
    adminKeySource?: AdminKeySource;
  }): Promise<{ url: string; wsBase: string; close(): Promise<void> }>;
  api<T = any>(method: string, path: string, token: string | undefined, json?: unknown): Promise<HttpResult<T>>;
  /** room-gateway's operator routes with X-Portcullis-API-Key (the stack's key unless `key` is given; null sends none). */
  admin<T = any>(method: string, path: string, json?: unknown, key?: string | null): Promise<HttpResult<T>>;
  close(): Promise<void>;
}

/** device-auth and room-gateway (signaling on) in this process, on port 0, against a database of their own and the real NATS. */
export async function startSignalingStack(label: string): Promise<SignalingStack> {
  const db = await createTestDatabase(label);
  const issuer = `pc-test-${label}-${randomBytes(4).toString('hex')}`;
  const deviceAuth = await startTestDeviceAuth({
    databaseUrl: db.url,
    env: { DEVICE_AUTH_ISSUER: issuer, DEVICE_AUTH_RATE_LIMIT: '10000' },
  });
  const logs = new LogCapture();
  const roomTokenKey = canary('roomkey');
  const env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'debug',
    NATS_URL,
    DATABASE_URL: db.url,
    DEVICE_AUTH_URL: deviceAuth.url,
    DEVICE_AUTH_ISSUER: issuer,
    ROOM_TOKEN_SIGNING_KEY: roomTokenKey,
    ROOM_GATEWAY_KEY_PEPPER: canary('pepper'),
    PORTCULLIS_ADMIN_API_KEY: deviceAuth.adminKey,
  };
  const cfg = loadRoomGatewayConfig(env);
  const gateway = await startRoomGateway(cfg, { logStream: logs });
  const gatewayUrl = await appUrl(gateway);
  const api = <T = any>(method: string, path: string, token: string | undefined, json?: unknown) =>
    http<T>(method, `${gatewayUrl}${path}`, { json, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const admin = <T = any>(method: string, path: string, json?: unknown, key: string | null = deviceAuth.adminKey) =>
    http<T>(method, `${gatewayUrl}${path}`, { json, headers: key === null ? {} : { 'x-portcullis-api-key': key } });
  // Ready once the revocation snapshot has arrived (the verifier refuses every token before).
  const probe = await (async () => {
    const id = `pi_${label}_probe_${randomBytes(4).toString('hex')}`;
    const { device_secret } = await deviceAuth.register(id);
    const r = await deviceAuth.authenticate(id, device_secret);
    return r.body.access_token as string;
  })();
  await waitFor(async () => (await api('GET', '/signaling/rooms', probe)).status === 200, 15000, 100);
  return {
    deviceAuth,
    gateway,
    gatewayUrl,
    wsBase: gatewayUrl.replace(/^http/, 'ws'),
    logs,
    roomTokenKey,
    adminKey: deviceAuth.adminKey,
    api,
    admin,
    async replica(change = {}) {
      const app = await startRoomGateway(change.env ? loadRoomGatewayConfig({ ...env, ...change.env }) : cfg, {
        logStream: logs,
        adminKeySource: change.adminKeySource,
      });
      const url = await appUrl(app);
      await waitFor(
        async () =>
          (await http('GET', `${url}/signaling/rooms`, { headers: { authorization: `Bearer ${probe}` } })).status ===
          200,
        15000,
        100,
      );
      return { url, wsBase: url.replace(/^http/, 'ws'), close: () => app.close() };
    },
    async device(l, customerId) {
      const id = `pi_${l}_${randomBytes(5).toString('hex')}`;
      const { device_secret } = await deviceAuth.register(id, customerId);
      const r = await deviceAuth.authenticate(id, device_secret);
      if (r.status !== 200) throw new Error(`auth ${id}: ${r.status}`);
      return { id, secret: device_secret, token: r.body.access_token };
    },
    async close() {
      await gateway.close();
      await deviceAuth.close();
      await db.drop();
    },
  };
}

/** A relay socket driven by the test (an attacker, an eavesdropper, or a client that never answers). */
export class TestPeer {
  readonly frames: any[] = [];
  closed?: { code: number; reason: string };
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.frames.push(JSON.parse(d.toString())));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static async open(url: string, token?: string, firstMessageToken?: string): Promise<TestPeer> {
    const ws = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const peer = new TestPeer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    if (firstMessageToken) ws.send(JSON.stringify({ type: 'auth', token: firstMessageToken }));
    return peer;
  }

  send(to: string | undefined, data: unknown): void {
    this.ws.send(JSON.stringify({ type: 'signal', to, data }));
  }

  async next(pred: (f: any) => boolean, timeoutMs = 5000): Promise<any> {
    return waitFor(() => this.frames.find(pred), timeoutMs, 10);
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closed as { code: number; reason: string }, timeoutMs, 10);
  }

  close(): void {
    this.ws.close();
  }
}
