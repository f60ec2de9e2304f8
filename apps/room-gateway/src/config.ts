import { AppBaseConfig, ConfigError, baseConfig, commonEnv, intValue, isProduction, parseEnv, port } from '@portcullis/platform';
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
  // Signaling rooms (seed 004): on only when DATABASE_URL is set.
  DATABASE_URL: z.string().optional(),
  ROOM_GATEWAY_MIGRATE_ON_START: z.enum(['0', '1', 'true', 'false']).optional(),
  DEVICE_AUTH_URL: z.string().url('must be a URL').default('http://127.0.0.1:3002'),
  DEVICE_AUTH_ISSUER: z.string().default('portcullis-device-auth'),
  DEVICE_AUTH_AUDIENCE: z.string().default('portcullis'),
  ROOM_TOKEN_SIGNING_KEY: z.string().optional(),
  ROOM_TOKEN_MAX_TTL_SECONDS: intValue(7 * 86400, 60, 30 * 86400),
  // Operator routes (/admin/signaling/*); never required, so BYOK runs stand-alone without it.
  PORTCULLIS_ADMIN_API_KEY: z.string().optional(),
};

/** Injected by class token; the value is the plain object loadRoomGatewayConfig builds. */
export abstract class RoomGatewayConfig {}
export interface RoomGatewayConfig extends AppBaseConfig {
  app: 'room-gateway';
  /** Keys the HMAC that turns a provider key into its fingerprint. */
  keyPepper: string;
  dailyBaseUrl: string;
  /** LiveKit is offered only when its server URL is configured. */
  livekitBaseUrl?: string;
  providerTimeoutMs: number;
  rateLimit: { windowMs: number; perKey: number; perIp: number };
  /** Signaling rooms, memberships and the relay; absent (feature off) without DATABASE_URL. */
  signaling?: SignalingConfig;
  /** Key of the operator signaling routes; unset, they refuse every call. */
  adminKey?: string;
}

export interface SignalingConfig {
  databaseUrl: string;
  migrateOnStart: boolean;
  deviceAuthUrl: string;
  issuer: string;
  audience: string;
  /** HMAC key of room tokens; a per-process one in development (tokens then die with the process). */
  roomTokenKey: string;
  roomTokenKeyGenerated: boolean;
  roomTokenMaxTtlSeconds: number;
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
    if (c.DATABASE_URL && isProduction(c.NODE_ENV)) {
      if (!c.ROOM_TOKEN_SIGNING_KEY) problems.push('ROOM_TOKEN_SIGNING_KEY: required in production when DATABASE_URL enables signaling');
      else if (Buffer.byteLength(c.ROOM_TOKEN_SIGNING_KEY) < MIN_PEPPER_BYTES) {
        problems.push(`ROOM_TOKEN_SIGNING_KEY: must be at least ${MIN_PEPPER_BYTES} bytes in production`);
      }
    }
    if (c.PORTCULLIS_ADMIN_API_KEY && isProduction(c.NODE_ENV) && Buffer.byteLength(c.PORTCULLIS_ADMIN_API_KEY) < MIN_PEPPER_BYTES) {
      problems.push(`PORTCULLIS_ADMIN_API_KEY: must be at least ${MIN_PEPPER_BYTES} bytes in production`);
    }
    return problems;
  });
  const migrate = e.ROOM_GATEWAY_MIGRATE_ON_START;
  return {
    app: 'room-gateway',
    ...baseConfig(e),
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
    signaling: e.DATABASE_URL
      ? {
          databaseUrl: e.DATABASE_URL,
          migrateOnStart: migrate === undefined ? true : migrate === '1' || migrate === 'true',
          deviceAuthUrl: e.DEVICE_AUTH_URL.replace(/\/+$/, ''),
          issuer: e.DEVICE_AUTH_ISSUER,
          audience: e.DEVICE_AUTH_AUDIENCE,
          roomTokenKey: e.ROOM_TOKEN_SIGNING_KEY ?? randomBytes(32).toString('hex'),
          roomTokenKeyGenerated: !e.ROOM_TOKEN_SIGNING_KEY,
          roomTokenMaxTtlSeconds: e.ROOM_TOKEN_MAX_TTL_SECONDS,
        }
      : undefined,
    adminKey: e.PORTCULLIS_ADMIN_API_KEY || undefined,
  };
}

export { ConfigError };
