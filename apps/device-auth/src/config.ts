import { readFileSync } from 'node:fs';
import {
  AppBaseConfig,
  ConfigError,
  baseConfig,
  commonEnv,
  intValue,
  isProduction,
  parseEnv,
  port,
  shortSecrets,
  splitList,
} from '@portcullis/platform';
import { DEVICE_TOKEN_MAX_TTL_SECONDS, KvBuckets } from '@portcullis/contracts';
import { z } from 'zod';

/** Every variable device-auth reads; docs/configuration.md is generated from these descriptions. */
export const shape = {
  ...commonEnv,
  PORT: port(3002).describe('listening port'),
  DATABASE_URL: z.string().optional().describe('`postgres://…` of the device registry; required'),
  DEVICE_AUTH_MIGRATE_ON_START: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .describe('run pending migrations at boot; unset means `1`'),
  DEVICE_AUTH_DB_CONNECT_TIMEOUT_MS: intValue(2000, 100, 60000).describe(
    'give up getting a Postgres connection after this many ms; the request answers 503 (docs/outages-and-rate-limits.md)',
  ),
  DEVICE_AUTH_DB_QUERY_TIMEOUT_MS: intValue(5000, 100, 600000).describe(
    'give up on one statement after this many ms; the request answers 503',
  ),
  DEVICE_AUTH_ATTEMPTS_RETENTION_DAYS: intValue(30, 1, 3650).describe(
    '`device_auth_attempts` rows older than this many days are purged (hourly)',
  ),
  PORTCULLIS_DATA_DIR: z
    .string()
    .default('./.data')
    .describe('directory of the development pepper and signing keys (`device-auth/`, mode 0600); it holds secrets'),
  DEVICE_AUTH_PEPPER: z
    .string()
    .optional()
    .describe(
      'HMAC-SHA-256 key for device secrets, never stored in the database; changing it invalidates every device secret; unset (development only), one is generated into the data directory',
    ),
  PORTCULLIS_ADMIN_API_KEY: z
    .string()
    .optional()
    .describe('`X-Portcullis-API-Key` of `/admin/*`; unset, the admin API refuses everything; required in production'),
  PORTCULLIS_ADMIN_API_KEY_PREV: z
    .string()
    .optional()
    .describe('previous admin key, accepted until `PORTCULLIS_ADMIN_API_KEY_PREV_UNTIL`'),
  PORTCULLIS_ADMIN_API_KEY_PREV_UNTIL: z
    .string()
    .datetime({ offset: true, message: 'must be an ISO-8601 time' })
    .optional()
    .describe('ISO-8601 time until which the previous admin key works; required with it'),
  DEVICE_AUTH_ISSUER: z
    .string()
    .default('portcullis-device-auth')
    .describe('`iss` of the tokens; also scopes the NATS revocation messages'),
  DEVICE_AUTH_AUDIENCE: z.string().default('portcullis').describe('`aud` of the tokens'),
  DEVICE_TOKEN_TTL_SECONDS: intValue(900, 60, DEVICE_TOKEN_MAX_TTL_SECONDS).describe(
    'access token lifetime, 60 to 3600 seconds; a larger value is refused at boot',
  ),
  DEVICE_AUTH_SIGNING_KEY: z
    .string()
    .optional()
    .describe(
      'PKCS#8 PEM of the EC P-256 key that signs tokens; required in production (or the `_FILE` form); unset in development, one is generated into the data directory',
    ),
  DEVICE_AUTH_SIGNING_KEY_FILE: z
    .string()
    .optional()
    .describe('a file holding that PEM, instead of `DEVICE_AUTH_SIGNING_KEY`'),
  DEVICE_AUTH_PREVIOUS_SIGNING_KEYS: z
    .string()
    .optional()
    .describe('PEMs of retired keys that still verify (public PEMs suffice)'),
  DEVICE_AUTH_PREVIOUS_SIGNING_KEY_FILES: z.string().optional().describe('comma-separated files holding such PEMs'),
  DEVICE_AUTH_RATE_LIMIT: intValue(5, 1, 100000).describe(
    '`/device/auth` sign-ins per device a window, successful or not',
  ),
  DEVICE_AUTH_RATE_WINDOW_SECONDS: intValue(60, 1, 86400).describe(
    'length of the sign-in rate-limit window, in seconds',
  ),
  DEVICE_AUTH_ADDRESS_FAILURE_LIMIT: z.coerce
    .number({ invalid_type_error: 'must be a number' })
    .int()
    .min(1)
    .max(100000)
    .optional()
    .describe('failed sign-ins per client address a window (successes do not count); unset, `DEVICE_AUTH_RATE_LIMIT`'),
  DEVICE_AUTH_RATE_LIMIT_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
    .default(KvBuckets.deviceAuthLimits)
    .describe('JetStream key-value bucket of the sign-in counts; one per deployment sharing a NATS'),
  VAPI_API_KEY: z
    .string()
    .optional()
    .describe('Vapi private key, used only in calls to `VAPI_BASE_URL`; unset, `/vapi/*` answers 503'),
  VAPI_BASE_URL: z.string().url('must be a URL').default('https://api.vapi.ai').describe('Vapi API base'),
  VAPI_TIMEOUT_MS: intValue(10000, 100, 120000).describe('timeout of each vendor call, in ms'),
};

/** Injected by class token; the value is the plain object loadDeviceAuthConfig builds. */
export abstract class DeviceAuthConfig {}
export interface DeviceAuthConfig extends AppBaseConfig {
  app: 'device-auth';
  databaseUrl: string;
  migrateOnStart: boolean;
  /** How long getting a Postgres connection may take before the request is answered 503. */
  dbConnectTimeoutMs: number;
  /** How long one statement may run (server side, with a client-side backstop) before it is given up. */
  dbQueryTimeoutMs: number;
  /** Rows of device_auth_attempts older than this many days are purged. */
  attemptsRetentionDays: number;
  dataDir: string;
  /** From DEVICE_AUTH_PEPPER; when absent (development only) a generated one is kept in dataDir. */
  pepper?: string;
  adminKey?: string;
  adminKeyPrevious?: { key: string; validUntil: Date };
  issuer: string;
  audience: string;
  tokenTtlSeconds: number;
  /** PEM (PKCS#8 EC P-256) of the signing key, from the variable or the file. */
  signingKeyPem?: string;
  /** PEMs (private or public) that still verify after a rotation. */
  previousKeyPems: string[];
  rateLimit: number;
  rateWindowSeconds: number;
  /** Failed sign-ins one client address may make a window (successes do not count); defaults to rateLimit. */
  addressFailureLimit: number;
  /** JetStream KV bucket of the rate-limit windows; replicas of one deployment share it. */
  rateLimitBucket: string;
  vapiApiKey?: string;
  vapiBaseUrl: string;
  vapiTimeoutMs: number;
}

const PEM_SPLIT = /(?=-----BEGIN )/;

function readFile(name: string, path: string, problems: string[], read: (p: string) => string): string | undefined {
  try {
    return read(path);
  } catch {
    problems.push(`${name}: cannot read the file it names`);
    return undefined;
  }
}

export function loadDeviceAuthConfig(
  env: Record<string, string | undefined> = process.env,
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): DeviceAuthConfig {
  const files: { signing?: string; previous: string[] } = { previous: [] };
  const e = parseEnv(shape, env, (c) => {
    const problems: string[] = [];
    const production = isProduction(c.NODE_ENV);
    if (!c.DATABASE_URL) problems.push('DATABASE_URL: required (a postgres:// URL)');
    if (c.DEVICE_AUTH_SIGNING_KEY && c.DEVICE_AUTH_SIGNING_KEY_FILE) {
      problems.push('DEVICE_AUTH_SIGNING_KEY_FILE: set either it or DEVICE_AUTH_SIGNING_KEY, not both');
    }
    if (c.DEVICE_AUTH_SIGNING_KEY_FILE)
      files.signing = readFile('DEVICE_AUTH_SIGNING_KEY_FILE', c.DEVICE_AUTH_SIGNING_KEY_FILE, problems, read);
    for (const f of splitList(c.DEVICE_AUTH_PREVIOUS_SIGNING_KEY_FILES)) {
      const pem = readFile('DEVICE_AUTH_PREVIOUS_SIGNING_KEY_FILES', f, problems, read);
      if (pem) files.previous.push(pem);
    }
    if (c.PORTCULLIS_ADMIN_API_KEY_PREV && !c.PORTCULLIS_ADMIN_API_KEY_PREV_UNTIL) {
      problems.push('PORTCULLIS_ADMIN_API_KEY_PREV_UNTIL: required with PORTCULLIS_ADMIN_API_KEY_PREV');
    }
    if (production) {
      if (!c.DEVICE_AUTH_PEPPER) problems.push('DEVICE_AUTH_PEPPER: required in production');
      if (!c.DEVICE_AUTH_SIGNING_KEY && !c.DEVICE_AUTH_SIGNING_KEY_FILE) {
        problems.push('DEVICE_AUTH_SIGNING_KEY: required in production (or DEVICE_AUTH_SIGNING_KEY_FILE)');
      }
      if (!c.PORTCULLIS_ADMIN_API_KEY) problems.push('PORTCULLIS_ADMIN_API_KEY: required in production');
      problems.push(
        ...shortSecrets(c, ['DEVICE_AUTH_PEPPER', 'PORTCULLIS_ADMIN_API_KEY', 'PORTCULLIS_ADMIN_API_KEY_PREV']),
      );
    }
    return problems;
  });
  const migrate = e.DEVICE_AUTH_MIGRATE_ON_START;
  return {
    app: 'device-auth',
    ...baseConfig(e),
    databaseUrl: e.DATABASE_URL as string,
    migrateOnStart: migrate === undefined ? true : migrate === '1' || migrate === 'true',
    dbConnectTimeoutMs: e.DEVICE_AUTH_DB_CONNECT_TIMEOUT_MS,
    dbQueryTimeoutMs: e.DEVICE_AUTH_DB_QUERY_TIMEOUT_MS,
    attemptsRetentionDays: e.DEVICE_AUTH_ATTEMPTS_RETENTION_DAYS,
    dataDir: e.PORTCULLIS_DATA_DIR,
    pepper: e.DEVICE_AUTH_PEPPER,
    adminKey: e.PORTCULLIS_ADMIN_API_KEY,
    adminKeyPrevious: e.PORTCULLIS_ADMIN_API_KEY_PREV
      ? { key: e.PORTCULLIS_ADMIN_API_KEY_PREV, validUntil: new Date(e.PORTCULLIS_ADMIN_API_KEY_PREV_UNTIL as string) }
      : undefined,
    issuer: e.DEVICE_AUTH_ISSUER,
    audience: e.DEVICE_AUTH_AUDIENCE,
    tokenTtlSeconds: e.DEVICE_TOKEN_TTL_SECONDS,
    signingKeyPem: e.DEVICE_AUTH_SIGNING_KEY ?? files.signing,
    previousKeyPems: [
      ...(e.DEVICE_AUTH_PREVIOUS_SIGNING_KEYS ?? '')
        .split(PEM_SPLIT)
        .map((s) => s.trim())
        .filter(Boolean),
      ...files.previous,
    ],
    rateLimit: e.DEVICE_AUTH_RATE_LIMIT,
    rateWindowSeconds: e.DEVICE_AUTH_RATE_WINDOW_SECONDS,
    addressFailureLimit: e.DEVICE_AUTH_ADDRESS_FAILURE_LIMIT ?? e.DEVICE_AUTH_RATE_LIMIT,
    rateLimitBucket: e.DEVICE_AUTH_RATE_LIMIT_BUCKET,
    vapiApiKey: e.VAPI_API_KEY,
    vapiBaseUrl: e.VAPI_BASE_URL.replace(/\/+$/, ''),
    vapiTimeoutMs: e.VAPI_TIMEOUT_MS,
  };
}

export { ConfigError };
