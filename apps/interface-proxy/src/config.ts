import {
  AppBaseConfig,
  DeviceTokenSettings,
  baseConfig,
  commonEnv,
  deviceTokenEnv,
  deviceTokenSettings,
  flag,
  intValue,
  isProduction,
  parseEnv,
  port,
} from '@portcullis/platform';
import { z } from 'zod';

/** Every variable interface-proxy reads; docs/configuration.md is generated from these descriptions. */
export const shape = {
  ...commonEnv,
  ...deviceTokenEnv,
  DEVICE_AUTH_URL: deviceTokenEnv.DEVICE_AUTH_URL.describe(
    "device-auth's base URL: the dashboard's admin calls go there (unset: `http://127.0.0.1:3002`), and with `INTERFACE_AUTH_REQUIRED=1` its device tokens are accepted (revocation-aware)",
  ),
  PORT: port(3000).describe('listening port'),
  BOT_CONTROL_BASE_URL: z
    .string()
    .url('must be a URL')
    .default('http://127.0.0.1:3001')
    .describe('server-side URL of bot-control'),
  BOT_CONTROL_SHARED_SECRET: z
    .string()
    .optional()
    .describe('attached to every bot-control call, never sent to a browser; required in production, at least 32 bytes'),
  BOT_CONTROL_SIGNATURE_REQUIRED: flag(false).describe(
    'sign bot-control calls (HMAC, timestamp, nonce) instead of sending the secret',
  ),
  BOT_CONTROL_TIMEOUT_MS: intValue(5000, 100, 60000).describe(
    "timeout of every upstream call (bot-control, and the dashboard's calls), in ms",
  ),
  INTERFACE_AUTH_REQUIRED: flag(false).describe(
    'require `Authorization: Bearer <JWT>` on every `/api/*` call: a device token (with `DEVICE_AUTH_URL`) or a token from `INTERFACE_JWKS_URL`',
  ),
  INTERFACE_JWKS_URL: z
    .string()
    .url('must be a URL')
    .optional()
    .describe('JWKS of an OIDC token issuer whose ES256 tokens callers may present'),
  INTERFACE_JWT_ISSUER: z
    .string()
    .optional()
    .describe('expected `iss` of those tokens; required with `INTERFACE_JWKS_URL`'),
  INTERFACE_JWT_AUDIENCE: z
    .string()
    .optional()
    .describe('expected `aud` of those tokens; required with `INTERFACE_JWKS_URL`'),
  DASHBOARD_ENABLED: flag().describe(
    'the operator dashboard at `/dashboard`; unset, on exactly when `PORTCULLIS_ADMIN_API_KEY` is set; `0` turns it off (404)',
  ),
  PORTCULLIS_ADMIN_API_KEY: z
    .string()
    .optional()
    .describe(
      'checked at dashboard sign-in and attached server-side to the device-auth and room-gateway admin calls; at least 32 bytes in production',
    ),
  ROOM_GATEWAY_BASE_URL: z
    .string()
    .url('must be a URL')
    .default('http://127.0.0.1:3003')
    .describe('server-side URL of room-gateway, for the dashboard'),
  DASHBOARD_SESSION_TTL_SECONDS: intValue(3600, 60, 43200).describe(
    "dashboard session lifetime (the cookie's Max-Age), 60 to 43200 seconds",
  ),
};

export abstract class InterfaceProxyConfig {}
export interface InterfaceProxyConfig extends AppBaseConfig {
  app: 'interface-proxy';
  botControlBaseUrl: string;
  /** Attached server-side to every bot-control call; never sent to a browser. */
  botControlSecret?: string;
  /** Sign requests (HMAC, timestamp, nonce) instead of sending the secret itself. */
  signRequests: boolean;
  botControlTimeoutMs: number;
  /** Callers' tokens from any OIDC issuer (INTERFACE_JWKS_URL). */
  callerAuth?: { jwksUrl: string; issuer: string; audience: string };
  /** Callers' device tokens from device-auth, revocation-aware (DEVICE_AUTH_URL). */
  deviceTokens?: DeviceTokenSettings;
  /** The operator dashboard at /dashboard; absent when disabled. */
  dashboard?: DashboardConfig;
}

export interface DashboardConfig {
  /** Checked at sign-in and attached server-side to device-auth admin calls; never sent to a browser. */
  adminKey: string;
  deviceAuthBaseUrl: string;
  roomGatewayBaseUrl: string;
  sessionTtlSeconds: number;
}

export function loadInterfaceProxyConfig(env: Record<string, string | undefined> = process.env): InterfaceProxyConfig {
  const e = parseEnv(shape, env, (c) => {
    const problems: string[] = [];
    if (c.INTERFACE_AUTH_REQUIRED && !c.DEVICE_AUTH_URL && !c.INTERFACE_JWKS_URL) {
      problems.push(
        'INTERFACE_JWKS_URL: required while INTERFACE_AUTH_REQUIRED=1 (or set DEVICE_AUTH_URL to accept device tokens)',
      );
    }
    if (c.INTERFACE_AUTH_REQUIRED && c.INTERFACE_JWKS_URL) {
      for (const name of ['INTERFACE_JWT_ISSUER', 'INTERFACE_JWT_AUDIENCE'] as const) {
        if (!c[name]) problems.push(`${name}: required with INTERFACE_JWKS_URL`);
      }
    }
    if (c.BOT_CONTROL_SIGNATURE_REQUIRED && !c.BOT_CONTROL_SHARED_SECRET) {
      problems.push('BOT_CONTROL_SHARED_SECRET: required to sign requests (BOT_CONTROL_SIGNATURE_REQUIRED=1)');
    }
    const dashboardOn = c.DASHBOARD_ENABLED ?? Boolean(c.PORTCULLIS_ADMIN_API_KEY);
    if (dashboardOn && !c.PORTCULLIS_ADMIN_API_KEY)
      problems.push('PORTCULLIS_ADMIN_API_KEY: required while DASHBOARD_ENABLED=1');
    if (
      dashboardOn &&
      isProduction(c.NODE_ENV) &&
      c.PORTCULLIS_ADMIN_API_KEY &&
      Buffer.byteLength(c.PORTCULLIS_ADMIN_API_KEY) < 32
    ) {
      problems.push('PORTCULLIS_ADMIN_API_KEY: must be at least 32 bytes in production');
    }
    if (isProduction(c.NODE_ENV)) {
      if (!c.BOT_CONTROL_SHARED_SECRET) problems.push('BOT_CONTROL_SHARED_SECRET: required in production');
      else if (Buffer.byteLength(c.BOT_CONTROL_SHARED_SECRET) < 32) {
        problems.push('BOT_CONTROL_SHARED_SECRET: must be at least 32 bytes in production');
      }
    }
    return problems;
  });
  return {
    app: 'interface-proxy',
    ...baseConfig(e),
    botControlBaseUrl: e.BOT_CONTROL_BASE_URL.replace(/\/+$/, ''),
    botControlSecret: e.BOT_CONTROL_SHARED_SECRET,
    signRequests: e.BOT_CONTROL_SIGNATURE_REQUIRED ?? false,
    botControlTimeoutMs: e.BOT_CONTROL_TIMEOUT_MS,
    deviceTokens: e.INTERFACE_AUTH_REQUIRED ? deviceTokenSettings(e) : undefined,
    callerAuth:
      e.INTERFACE_AUTH_REQUIRED && e.INTERFACE_JWKS_URL
        ? {
            jwksUrl: e.INTERFACE_JWKS_URL,
            issuer: e.INTERFACE_JWT_ISSUER as string,
            audience: e.INTERFACE_JWT_AUDIENCE as string,
          }
        : undefined,
    dashboard:
      (e.DASHBOARD_ENABLED ?? Boolean(e.PORTCULLIS_ADMIN_API_KEY)) && e.PORTCULLIS_ADMIN_API_KEY
        ? {
            adminKey: e.PORTCULLIS_ADMIN_API_KEY,
            deviceAuthBaseUrl: (e.DEVICE_AUTH_URL ?? 'http://127.0.0.1:3002').replace(/\/+$/, ''),
            roomGatewayBaseUrl: e.ROOM_GATEWAY_BASE_URL.replace(/\/+$/, ''),
            sessionTtlSeconds: e.DASHBOARD_SESSION_TTL_SECONDS,
          }
        : undefined,
  };
}
