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
  shortSecrets,
} from '@portcullis/platform';
import { z } from 'zod';

/** Every variable bot-control reads; docs/configuration.md is generated from these descriptions. */
export const shape = {
  ...commonEnv,
  ...deviceTokenEnv,
  PORT: port(3001).describe('listening port'),
  BOT_CONTROL_SHARED_SECRET: z
    .string()
    .optional()
    .describe(
      'the shared secret callers present (`X-Bot-Secret` or `Authorization: Bearer`); required while any enforcement is on, at least 32 bytes in production',
    ),
  BOT_CONTROL_SHARED_SECRET_PREV: z
    .string()
    .optional()
    .describe('the previous secret, still accepted while a rotation rolls out'),
  BOT_CONTROL_AUTH_REQUIRED: flag().describe(
    'enforce authentication on `/join` and the `/sessions/*` mutations; unset means `0`, or `1` when `NODE_ENV=production`; while off, refusals are only logged as `would_deny`',
  ),
  BOT_CONTROL_AUTH_REQUIRED_CHANGE: flag(false).describe(
    'enforce on the `/sessions/*` mutations (leave, delete) even while `BOT_CONTROL_AUTH_REQUIRED` is off',
  ),
  BOT_CONTROL_SIGNATURE_REQUIRED: flag(false).describe(
    'require HMAC-signed requests on the mutations (docs/security/request-signing.md)',
  ),
  BOT_CONTROL_SIGNATURE_SKEW_SECONDS: intValue(300, 1, 3600).describe(
    "accepted clock skew of a signed request's timestamp, in seconds; nonces are kept for twice this",
  ),
  BOT_CONTROL_EVENTS_AUTH_REQUIRED: flag(false).describe(
    'require the secret for `/events`, `/ws/events` and the `GET /sessions*` reads',
  ),
  BOT_COMMAND: z
    .string()
    .optional()
    .describe(
      'bot argv, a JSON array or space-separated words (no shell); gets `--room-url URL --bot NAME` and `BOT_ROOM_URL`, `BOT_NAME`, `BOT_ROOM_TOKEN`; unset, the bundled worker',
    ),
  BOT_LEAVE_GRACE_MS: intValue(5000, 0, 120000).describe('SIGTERM to SIGKILL grace on leave and shutdown, in ms'),
  BOT_MAX_SESSIONS: intValue(100, 1, 10000).describe('live bots at most; `503` beyond'),
};

/** Injected by class token; the value is the plain object loadBotControlConfig builds. */
export abstract class BotControlConfig {}
export interface BotControlConfig extends AppBaseConfig {
  app: 'bot-control';
  secret?: string;
  previousSecret?: string;
  /** Enforce on /join and the /sessions/* mutations. */
  authRequired: boolean;
  /** Enforce on the /sessions/* mutations even while authRequired is off. */
  authRequiredChange: boolean;
  signatureRequired: boolean;
  signatureSkewSeconds: number;
  eventsAuthRequired: boolean;
  botCommand?: string;
  leaveGraceMs: number;
  maxSessions: number;
  /** Device tokens from device-auth are accepted too (as `Authorization: Bearer <token>`) when set. */
  deviceTokens?: DeviceTokenSettings;
}

export function loadBotControlConfig(env: Record<string, string | undefined> = process.env): BotControlConfig {
  const e = parseEnv(shape, env, (c) => {
    const problems: string[] = [];
    const production = isProduction(c.NODE_ENV);
    // In production enforcement is on unless explicitly turned off.
    const enforced = c.BOT_CONTROL_AUTH_REQUIRED ?? production;
    const anyEnforced =
      enforced ||
      c.BOT_CONTROL_AUTH_REQUIRED_CHANGE ||
      c.BOT_CONTROL_SIGNATURE_REQUIRED ||
      c.BOT_CONTROL_EVENTS_AUTH_REQUIRED;
    if (anyEnforced && !c.BOT_CONTROL_SHARED_SECRET) {
      problems.push('BOT_CONTROL_SHARED_SECRET: required while authentication is enforced');
    }
    if (production) problems.push(...shortSecrets(c, ['BOT_CONTROL_SHARED_SECRET', 'BOT_CONTROL_SHARED_SECRET_PREV']));
    return problems;
  });
  const production = isProduction(e.NODE_ENV);
  return {
    app: 'bot-control',
    ...baseConfig(e),
    secret: e.BOT_CONTROL_SHARED_SECRET,
    previousSecret: e.BOT_CONTROL_SHARED_SECRET_PREV,
    authRequired: e.BOT_CONTROL_AUTH_REQUIRED ?? production,
    authRequiredChange: e.BOT_CONTROL_AUTH_REQUIRED_CHANGE ?? false,
    signatureRequired: e.BOT_CONTROL_SIGNATURE_REQUIRED ?? false,
    signatureSkewSeconds: e.BOT_CONTROL_SIGNATURE_SKEW_SECONDS,
    eventsAuthRequired: e.BOT_CONTROL_EVENTS_AUTH_REQUIRED ?? false,
    botCommand: e.BOT_COMMAND,
    leaveGraceMs: e.BOT_LEAVE_GRACE_MS,
    maxSessions: e.BOT_MAX_SESSIONS,
    deviceTokens: deviceTokenSettings(e),
  };
}
