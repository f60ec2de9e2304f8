import { ConfigError, commonEnv, intValue, isProduction, parseEnv, port, splitList } from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** Every variable room-gateway reads; the README's room-gateway table mirrors this file. */
const shape = {
  ...commonEnv,
  PORT: port(3003),
  ROOM_GATEWAY_KEY_PEPPER: z.string().optional(),
  DAILY_API_BASE_URL: z.string().url('must be a URL').default('https://api.daily.co/v1'),
  LIVEKIT_API_BASE_URL: z.string().regex(/^(https?|wss?):\/\/\S+$/, 'must be an http(s) or ws(s) URL').optional(),
  ROOM_GATEWAY_PROVIDER_TIMEOUT_MS: intValue(10_000, 100, 120_000),
  ROOM_GATEWAY_RATE_LIMIT_WINDOW_SECONDS: intValue(60, 1, 3600),
  ROOM_GATEWAY_RATE_LIMIT_PER_KEY: intValue(60, 1, 1_000_000),
  ROOM_GATEWAY_RATE_LIMIT_PER_IP: intValue(120, 1, 1_000_000),
};

/** Injected by class token; the value is the plain object loadRoomGatewayConfig builds. */
export abstract class RoomGatewayConfig {}
export interface RoomGatewayConfig {
  app: 'room-gateway';
  production: boolean;
  host: string;
  port: number;
  logLevel: string;
  natsUrl?: string;
  trustedProxies: string[];
  /** Keys the HMAC that turns a provider key into its fingerprint. */
  keyPepper: string;
  dailyBaseUrl: string;
  /** LiveKit is offered only when its server URL is configured. */
  livekitBaseUrl?: string;
  providerTimeoutMs: number;
  rateLimit: { windowMs: number; perKey: number; perIp: number };
}

const MIN_PEPPER_BYTES = 32;

export function loadRoomGatewayConfig(env: Record<string, string | undefined> = process.env): RoomGatewayConfig {
  const e = parseEnv(shape, env, (c) => {
    const problems: string[] = [];
    if (isProduction(c.NODE_ENV)) {
      if (!c.ROOM_GATEWAY_KEY_PEPPER) problems.push('ROOM_GATEWAY_KEY_PEPPER: required in production');
      else if (Buffer.byteLength(c.ROOM_GATEWAY_KEY_PEPPER) < MIN_PEPPER_BYTES) {
        problems.push(`ROOM_GATEWAY_KEY_PEPPER: must be at least ${MIN_PEPPER_BYTES} bytes in production`);
      }
    }
    return problems;
  });
  return {
    app: 'room-gateway',
    production: isProduction(e.NODE_ENV),
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    natsUrl: e.NATS_URL,
    trustedProxies: splitList(e.TRUSTED_PROXIES),
    // Development without a pepper: one per process, so fingerprints are still keyed (replicas then count apart).
    keyPepper: e.ROOM_GATEWAY_KEY_PEPPER ?? randomBytes(32).toString('hex'),
    dailyBaseUrl: e.DAILY_API_BASE_URL,
    livekitBaseUrl: e.LIVEKIT_API_BASE_URL,
    providerTimeoutMs: e.ROOM_GATEWAY_PROVIDER_TIMEOUT_MS,
    rateLimit: {
      windowMs: e.ROOM_GATEWAY_RATE_LIMIT_WINDOW_SECONDS * 1000,
      perKey: e.ROOM_GATEWAY_RATE_LIMIT_PER_KEY,
      perIp: e.ROOM_GATEWAY_RATE_LIMIT_PER_IP,
    },
  };
}

export { ConfigError };
