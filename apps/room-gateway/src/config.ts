import {
  AppBaseConfig,
  ConfigError,
  baseConfig,
  commonEnv,
  intValue,
  isProduction,
  parseEnv,
  port,
} from '@portcullis/platform';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** Every variable room-gateway reads; docs/configuration.md is generated from these descriptions. */
export const shape = {
  ...commonEnv,
  PORT: port(3003).describe('listening port'),
  ROOM_GATEWAY_KEY_PEPPER: z
    .string()
    .optional()
    .describe(
      'HMAC key of the provider-key fingerprints; share it across replicas; required in production, at least 32 bytes; unset in development, random per process',
    ),
  DAILY_API_BASE_URL: z
    .string()
    .url('must be a URL')
    .default('https://api.daily.co/v1')
    .describe('Daily REST API base'),
  LIVEKIT_API_BASE_URL: z
    .string()
    .regex(/^(https?|wss?):\/\/\S+$/, 'must be an http(s) or ws(s) URL')
    .optional()
    .describe('your LiveKit server, `https://…` or `wss://…` (converted to https); unset, LiveKit is not offered'),
  ROOM_GATEWAY_PROVIDER_TIMEOUT_MS: intValue(10_000, 100, 120_000).describe(
    'timeout of each provider call (headers and body each), in ms',
  ),
  ROOM_GATEWAY_RATE_LIMIT_WINDOW_SECONDS: intValue(60, 1, 3600).describe('window of both rate limits, in seconds'),
  ROOM_GATEWAY_RATE_LIMIT_PER_KEY: intValue(60, 1, 1_000_000).describe(
    'requests a window per provider-key fingerprint',
  ),
  ROOM_GATEWAY_RATE_LIMIT_PER_IP: intValue(120, 1, 1_000_000).describe('requests a window per client address'),
  DATABASE_URL: z
    .string()
    .optional()
    .describe('Postgres of the signaling rooms; unset, signaling is off and only the BYOK rooms API runs'),
  ROOM_GATEWAY_MIGRATE_ON_START: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .describe('run pending signaling migrations at boot; unset means `1`'),
  DEVICE_AUTH_URL: z
    .string()
    .url('must be a URL')
    .default('http://127.0.0.1:3002')
    .describe("device-auth's base URL; its `/.well-known/jwks.json` verifies the device tokens of signaling calls"),
  DEVICE_AUTH_ISSUER: z
    .string()
    .default('portcullis-device-auth')
    .describe("expected `iss` of device tokens; must match device-auth's"),
  DEVICE_AUTH_AUDIENCE: z
    .string()
    .default('portcullis')
    .describe("expected `aud` of device tokens; must match device-auth's"),
  ROOM_TOKEN_SIGNING_KEY: z
    .string()
    .optional()
    .describe(
      'HMAC key of room tokens, shared by replicas; required in production with signaling, at least 32 bytes; unset in development, random per process (a warning is logged)',
    ),
  ROOM_TOKEN_MAX_TTL_SECONDS: intValue(7 * 86400, 60, 30 * 86400).describe(
    "cap on a room token's lifetime, in seconds",
  ),
  PORTCULLIS_ADMIN_API_KEY: z
    .string()
    .optional()
    .describe(
      'key of the operator routes `/admin/signaling/*`; never required, so BYOK runs stand-alone; unset, those routes refuse every call; at least 32 bytes in production',
    ),
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
      if (!c.ROOM_TOKEN_SIGNING_KEY)
        problems.push('ROOM_TOKEN_SIGNING_KEY: required in production when DATABASE_URL enables signaling');
      else if (Buffer.byteLength(c.ROOM_TOKEN_SIGNING_KEY) < MIN_PEPPER_BYTES) {
        problems.push(`ROOM_TOKEN_SIGNING_KEY: must be at least ${MIN_PEPPER_BYTES} bytes in production`);
      }
    }
    if (
      c.PORTCULLIS_ADMIN_API_KEY &&
      isProduction(c.NODE_ENV) &&
      Buffer.byteLength(c.PORTCULLIS_ADMIN_API_KEY) < MIN_PEPPER_BYTES
    ) {
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
