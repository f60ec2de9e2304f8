/**
 * Header and field names whose values are credentials. At
 * least these are redacted everywhere a request or payload is logged.
 */
const SECRET_HEADERS = [
  'authorization',
  'x-bot-secret',
  'x-bot-signature',
  'x-provider-auth',
  'x-portcullis-api-key',
  'x-csrf-token',
  'cookie',
  'set-cookie',
] as const;

const SECRET_FIELDS = [
  'device_secret',
  'access_token',
  'refresh_token',
  'room_secret',
  'secret',
  'token',
  'api_key',
  'password',
  'key',
] as const;

export const REDACT_PATHS: string[] = [
  ...SECRET_HEADERS.map((h) => `req.headers["${h}"]`),
  ...SECRET_HEADERS.map((h) => `res.headers["${h}"]`),
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
  ...SECRET_FIELDS.map((f) => f),
];
