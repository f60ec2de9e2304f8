/**
 * Messages between device-auth and every app that verifies device tokens.
 * None of them carries a secret: device ids, generations and key ids only.
 */

/** Emitted on Subjects.deviceRevoked: tokens of `device_id` with `gen` below `min_generation` are void. */
export interface DeviceRevokedEvent {
  device_id: string;
  min_generation: number;
  revoked_at: string;
}

/** Emitted on Subjects.jwksUpdated after a signing-key rotation: verifiers refetch the JWKS. */
export interface JwksUpdatedEvent {
  kids: string[];
  at: string;
}

/** Request on Subjects.revocationSnapshot (empty body); the reply lists every device with a raised floor. */
export interface RevocationSnapshot {
  entries: Array<{ device_id: string; min_generation: number }>;
  at: string;
}

/** The claims of a device access token (DESIGN.md: Principals and tokens). */
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
/** Hard cap on a device token's lifetime (seed 002: never beyond one hour). */
export const DEVICE_TOKEN_MAX_TTL_SECONDS = 3600;
