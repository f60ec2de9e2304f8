import { z } from 'zod';

/** Thrown at boot when the environment is unusable; one message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Parses the environment through one schema. Each schema key is the variable
 * name, so a problem is reported as "VAR: why" and never echoes the value
 * (the value may be a secret).
 */
export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  env: Env,
  refine?: (cfg: z.infer<z.ZodObject<S>>) => string[],
): z.infer<z.ZodObject<S>> {
  const picked: Env = {};
  for (const key of Object.keys(shape)) {
    const v = env[key];
    picked[key] = v === '' ? undefined : v;
  }
  const result = z.object(shape).safeParse(picked);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(problems);
  }
  const extra = refine ? refine(result.data) : [];
  if (extra.length) throw new ConfigError(extra);
  return result.data;
}

/** "1"/"true"/"yes"/"on" and "0"/"false"/"no"/"off"; anything else is an error. */
export const flag = (defaultValue?: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return defaultValue;
      const s = v.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be 1 or 0 (true/false)' });
      return z.NEVER;
    });

export const port = (defaultValue: number) =>
  z.coerce.number({ invalid_type_error: 'must be a port number' }).int().min(0).max(65535).default(defaultValue);

export const intValue = (defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ invalid_type_error: 'must be a number' }).int().min(min).max(max).default(defaultValue);

const logLevel = () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** Settings every app reads; each `.describe()` is the meaning docs/configuration.md shows. */
export const commonEnv = {
  NODE_ENV: z
    .string()
    .default('development')
    .describe(
      '`production` turns on the production refusals: enforcement on, required secrets, no secret under 32 bytes',
    ),
  HOST: z.string().default('0.0.0.0').describe('listening address'),
  LOG_LEVEL: logLevel().describe('level of the JSON log lines on stdout'),
  NATS_URL: z
    .string()
    .optional()
    .describe(
      "one server (`nats://127.0.0.1:4222`) or a cluster's servers comma-separated; unset, the apps use an in-process transport with the same message patterns (docs/nats.md)",
    ),
  NATS_KV_REPLICAS: intValue(1, 1, 5).describe(
    'copies of each JetStream key-value bucket: 1 on a single server, 3 on a three-node cluster (at most the node count)',
  ),
  TRUSTED_PROXIES: z
    .string()
    .optional()
    .describe('comma-separated addresses/CIDRs whose `X-Forwarded-For` is believed'),
  HTTP_HEADERS_TIMEOUT_MS: intValue(10_000, 100, 600_000).describe(
    'request line and headers must arrive within this many ms, else 408 (docs/limits-and-timeouts.md)',
  ),
  HTTP_BODY_TIMEOUT_MS: intValue(30_000, 100, 3_600_000).describe(
    'the whole request (headers and body) must arrive within this many ms, else 408',
  ),
  HTTP_REQUEST_TIMEOUT_MS: intValue(30_000, 100, 3_600_000).describe(
    'once a request has arrived, its answer must start within this many ms, else 503',
  ),
  HTTP_KEEPALIVE_TIMEOUT_MS: intValue(5_000, 100, 600_000).describe(
    'an idle keep-alive connection is closed after this many ms',
  ),
  HTTP_BODY_LIMIT_BYTES: intValue(1_048_576, 1024, 64 * 1_048_576).describe(
    'larger request bodies are refused with 413',
  ),
  HTTP_JSON_MAX_DEPTH: intValue(32, 1, 512).describe('deeper JSON bodies are refused with 400'),
  SHUTDOWN_DRAIN_MS: intValue(10_000, 0, 600_000).describe(
    'on SIGTERM, requests in flight get this many ms to finish before every connection is closed',
  ),
};

export function isProduction(nodeEnv: string | undefined): boolean {
  return (nodeEnv ?? '').toLowerCase() === 'production';
}

/** A comma-separated list variable. */
export function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Accepting device tokens (issued by device-auth) in an app other than
 * device-auth: off unless DEVICE_AUTH_URL is set.
 */
export const deviceTokenEnv = {
  DEVICE_AUTH_URL: z
    .string()
    .url('must be a URL')
    .optional()
    .describe(
      "device-auth's base URL; when set, its device access tokens are accepted too (`Authorization: Bearer <token>`, verified locally from its JWKS, revocation-aware)",
    ),
  DEVICE_AUTH_ISSUER: z.string().default('portcullis-device-auth').describe('expected `iss` of device tokens'),
  DEVICE_AUTH_AUDIENCE: z.string().default('portcullis').describe('expected `aud` of device tokens'),
};

export interface DeviceTokenSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
}

export function deviceTokenSettings(e: {
  DEVICE_AUTH_URL?: string;
  DEVICE_AUTH_ISSUER: string;
  DEVICE_AUTH_AUDIENCE: string;
}): DeviceTokenSettings | undefined {
  if (!e.DEVICE_AUTH_URL) return undefined;
  return {
    jwksUrl: `${e.DEVICE_AUTH_URL.replace(/\/+$/, '')}/.well-known/jwks.json`,
    issuer: e.DEVICE_AUTH_ISSUER,
    audience: e.DEVICE_AUTH_AUDIENCE,
  };
}

/** The settings every app's typed config carries, from `commonEnv` plus its PORT. */
export interface AppBaseConfig {
  production: boolean;
  host: string;
  port: number;
  logLevel: string;
  natsUrl?: string;
  natsKvReplicas: number;
  trustedProxies: string[];
  http: HttpLimits;
}

/** What one HTTP request may cost the server, and how long shutdown waits (docs/limits-and-timeouts.md). */
export interface HttpLimits {
  /** The request line and every header must have arrived within this (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** The whole request, headers and body, must have arrived within this (Node's requestTimeout). */
  bodyTimeoutMs: number;
  /** Once the request has arrived, the app must start its answer within this, or it is answered 503. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  bodyLimitBytes: number;
  /** Deepest nesting of arrays/objects a JSON body may have. */
  jsonMaxDepth: number;
  /** On SIGTERM (or close), how long requests in flight may take to finish before their sockets are closed. */
  shutdownDrainMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  bodyLimitBytes: 1_048_576,
  jsonMaxDepth: 32,
  shutdownDrainMs: 10_000,
};

type HttpEnv = {
  HTTP_HEADERS_TIMEOUT_MS?: number;
  HTTP_BODY_TIMEOUT_MS?: number;
  HTTP_REQUEST_TIMEOUT_MS?: number;
  HTTP_KEEPALIVE_TIMEOUT_MS?: number;
  HTTP_BODY_LIMIT_BYTES?: number;
  HTTP_JSON_MAX_DEPTH?: number;
  SHUTDOWN_DRAIN_MS?: number;
};

function httpLimits(e: HttpEnv): HttpLimits {
  const d = DEFAULT_HTTP_LIMITS;
  const limits: HttpLimits = {
    headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS ?? d.headersTimeoutMs,
    bodyTimeoutMs: e.HTTP_BODY_TIMEOUT_MS ?? d.bodyTimeoutMs,
    requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS ?? d.requestTimeoutMs,
    keepAliveTimeoutMs: e.HTTP_KEEPALIVE_TIMEOUT_MS ?? d.keepAliveTimeoutMs,
    bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES ?? d.bodyLimitBytes,
    jsonMaxDepth: e.HTTP_JSON_MAX_DEPTH ?? d.jsonMaxDepth,
    shutdownDrainMs: e.SHUTDOWN_DRAIN_MS ?? d.shutdownDrainMs,
  };
  // Node refuses a headers timeout longer than the whole-request one.
  if (limits.headersTimeoutMs > limits.bodyTimeoutMs) {
    throw new ConfigError(['HTTP_HEADERS_TIMEOUT_MS: must not be longer than HTTP_BODY_TIMEOUT_MS']);
  }
  return limits;
}

export function baseConfig(
  e: {
    NODE_ENV: string;
    HOST: string;
    PORT: number;
    LOG_LEVEL: string;
    NATS_URL?: string;
    NATS_KV_REPLICAS?: number;
    TRUSTED_PROXIES?: string;
  } & HttpEnv,
): AppBaseConfig {
  return {
    production: isProduction(e.NODE_ENV),
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    natsUrl: e.NATS_URL,
    natsKvReplicas: e.NATS_KV_REPLICAS ?? 1,
    trustedProxies: splitList(e.TRUSTED_PROXIES),
    http: httpLimits(e),
  };
}

const MIN_PRODUCTION_SECRET_BYTES = 32;

/** Problems for each named secret that is set but shorter than `min` bytes (checked in production). */
export function shortSecrets(
  values: Record<string, unknown>,
  names: readonly string[],
  min = MIN_PRODUCTION_SECRET_BYTES,
): string[] {
  return names
    .filter((n) => typeof values[n] === 'string' && Buffer.byteLength(values[n]) < min)
    .map((n) => `${n}: must be at least ${min} bytes in production`);
}
