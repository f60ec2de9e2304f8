import { Subjects } from './subjects';

const REVOCATION_SNAPSHOT_BASE = Subjects.revocationSnapshot;

/**
 * Messages between device-auth and every app that verifies device tokens.
 * None of them carries a secret: device ids, generations and key ids only.
 */

/** Emitted on Subjects.deviceRevoked: tokens of `device_id` with `gen` below `min_generation` are void. */
export interface DeviceRevokedEvent {
  /** The issuer whose device this is; verifiers of other issuers ignore the event. */
  iss: string;
  device_id: string;
  min_generation: number;
  revoked_at: string;
}

/** Emitted on Subjects.jwksUpdated after a signing-key rotation: verifiers refetch the JWKS. */
export interface JwksUpdatedEvent {
  iss: string;
  kids: string[];
  at: string;
}

/** Request on Subjects.revocationSnapshot (empty body); the reply lists every device with a raised floor. */
export interface RevocationSnapshot {
  iss: string;
  entries: Array<{ device_id: string; min_generation: number }>;
  at: string;
}

/** The claims of a device access token (docs/architecture.md, "Principals and tokens"). */
/** @public the message contract, for clients written outside this repository */
export interface DeviceTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  /** customer id */
  cid: string;
  /** always DEVICE_TOKEN_TYP */
  typ: string;
  jti: string;
  iat: number;
  exp: number;
  /** the device's token generation when the token was issued */
  gen: number;
}

/** The `typ` claim of device access tokens. */
export const DEVICE_TOKEN_TYP = 'device_access';
/** The JOSE header `typ` of device access tokens (RFC 9068). */
export const DEVICE_TOKEN_HEADER_TYP = 'at+jwt';
/** Hard cap on a device token's lifetime: never beyond one hour. */
export const DEVICE_TOKEN_MAX_TTL_SECONDS = 3600;

/**
 * Where one issuer answers snapshot requests over NATS: Subjects.revocationSnapshot
 * plus a digest of the issuer, so several device-auth deployments (or test runs)
 * can share a NATS cluster without answering for each other.
 */
export function revocationSnapshotSubject(issuer: string): string {
  // FNV-1a, enough to keep issuers apart inside a subject token.
  let h = 0x811c9dc5;
  for (const c of Buffer.from(issuer, 'utf8')) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return `${REVOCATION_SNAPSHOT_BASE}.${h.toString(16).padStart(8, '0')}`;
}
