/**
 * Every NATS subject the suite uses. Apps import these constants; no raw
 * pattern string appears anywhere else ("Subjects and payload
 * types live only in libs/contracts").
 */
export const Subjects = {
  botSessionStarted: 'portcullis.bot.session.started',
  botSessionLeaving: 'portcullis.bot.session.leaving',
  botSessionEnded: 'portcullis.bot.session.ended',
  botSessionFailed: 'portcullis.bot.session.failed',
  deviceRevoked: 'portcullis.device.revoked',
  jwksUpdated: 'portcullis.device.jwks.updated',
  revocationSnapshot: 'portcullis.device.revocations.snapshot',
  auditEvent: 'portcullis.audit.event',
} as const;

/** @public the message contract, for clients written outside this repository */
export type Subject = (typeof Subjects)[keyof typeof Subjects];

/** JetStream key-value buckets shared by replicas. */
export const KvBuckets = {
  botNonces: 'portcullis_bot_nonces',
  /** device-auth's /device/auth rate-limit windows (per device and per client address). */
  deviceAuthLimits: 'portcullis_device_auth_limits',
} as const;
