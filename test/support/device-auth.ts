import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { appUrl } from '@portcullis/platform';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { DataSource } from 'typeorm';
import { DeviceAuthConfig, loadDeviceAuthConfig, startDeviceAuth } from '../../apps/device-auth/src';
import { canary, DATABASE_URL, NATS_URL } from './env';
import { http, HttpResult } from './http';
import { LogCapture } from './log-capture';

/** Runs statements on a short-lived connection (TypeORM's pg driver; no pg types needed). */
export async function sql<T = any>(url: string, ...statements: string[]): Promise<T[][]> {
  const ds = await new DataSource({ type: 'postgres', url, extra: { max: 1 } }).initialize();
  try {
    const out: T[][] = [];
    for (const s of statements) out.push(await ds.query(s));
    return out;
  } finally {
    await ds.destroy();
  }
}

/** A database of its own for one test file, dropped at the end. */
export async function createTestDatabase(label: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `pc_${label}_${randomBytes(6).toString('hex')}`.toLowerCase();
  await sql(DATABASE_URL, `CREATE DATABASE ${name}`);
  const u = new URL(DATABASE_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      await sql(DATABASE_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A random documentation-range address to send as X-Forwarded-For, so parallel files never share an address counter. */
export function randomClientIp(): string {
  return `198.51.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0] % 250)}`;
}

export interface RunningDeviceAuth {
  app: NestFastifyApplication;
  url: string;
  cfg: DeviceAuthConfig;
  dataDir: string;
  logs: LogCapture;
  adminKey: string;
  clientIp: string;
  admin<T = any>(method: string, path: string, json?: unknown): Promise<HttpResult<T>>;
  call<T = any>(
    method: string,
    path: string,
    opts?: { token?: string; json?: unknown; headers?: Record<string, string> },
  ): Promise<HttpResult<T>>;
  register(deviceId: string, customerId?: string): Promise<{ device_id: string; device_secret: string }>;
  authenticate(deviceId: string, secret: string): Promise<HttpResult>;
  close(): Promise<void>;
}

/**
 * Boots the real device-auth root module on port 0 against a test database
 * and the real NATS, with canary secrets so the tests can look for them.
 */
export async function startTestDeviceAuth(opts: {
  databaseUrl: string;
  env?: Record<string, string | undefined>;
  dataDir?: string;
  adminKey?: string;
  pepper?: string;
}): Promise<RunningDeviceAuth> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pc-da-'));
  const adminKey = opts.adminKey ?? canary('admin');
  const env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'debug',
    DATABASE_URL: opts.databaseUrl,
    NATS_URL,
    TRUSTED_PROXIES: '127.0.0.1',
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_ADMIN_API_KEY: adminKey,
    DEVICE_AUTH_PEPPER: opts.pepper ?? canary('pepper'),
    // Rate-limit counts of its own, so parallel files never share an address's window.
    DEVICE_AUTH_RATE_LIMIT_BUCKET: `pc_test_limits_${randomBytes(6).toString('hex')}`,
    ...opts.env,
  };
  const cfg = loadDeviceAuthConfig(env);
  const logs = new LogCapture();
  const app = await startDeviceAuth(cfg, { logStream: logs });
  const url = await appUrl(app);
  const clientIp = randomClientIp();
  const call = <T = any>(
    method: string,
    path: string,
    o: { token?: string; json?: unknown; headers?: Record<string, string> } = {},
  ) =>
    http<T>(method, `${url}${path}`, {
      json: o.json,
      headers: {
        'x-forwarded-for': clientIp,
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.headers ?? {}),
      },
    });
  const admin = <T = any>(method: string, path: string, json?: unknown) =>
    call<T>(method, path, { json, headers: { 'x-portcullis-api-key': adminKey } });
  return {
    app,
    url,
    cfg,
    dataDir,
    logs,
    adminKey,
    clientIp,
    admin,
    call,
    async register(deviceId, customerId = 'cust_test') {
      const r = await admin('POST', '/admin/devices', {
        device_id: deviceId,
        customer_id: customerId,
        name: `${deviceId} name`,
      });
      if (r.status !== 201) throw new Error(`register ${deviceId}: ${r.status} ${r.text}`);
      return r.body;
    },
    authenticate(deviceId, secret) {
      return call('POST', '/device/auth', { json: { device_id: deviceId, device_secret: secret } });
    },
    async close() {
      await app.close();
      if (!opts.env?.DEVICE_AUTH_RATE_LIMIT_BUCKET) await deleteBucket(cfg.rateLimitBucket);
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Removes a JetStream KV bucket a test created (its stream is KV_<bucket>). */
export async function deleteBucket(bucket: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    await (await nc.jetstreamManager()).streams.delete(`KV_${bucket}`).catch(() => false);
  } finally {
    await nc.close();
  }
}

export function uniqueDeviceId(label: string): string {
  return `pi_${label}_${randomBytes(5).toString('hex')}`;
}
