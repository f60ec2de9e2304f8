// The one guard, its decorators (@Auth, @Public, @Internal, @Principal) and the strategy contract.
export * from './guard';
// One strategy per credential kind.
export * from './strategies';
export * from './common/crypto';
export * from './signing/nonce-store';
export * from './signing/request-signature';
export * from './jwt/jwks-verifier';
// Device tokens issued by device-auth: the verifier and its revocation feed (DeviceTokenModule).
export * from './device-token';
// Where the admin key is read from (AdminKeySource).
export * from './admin-key';
// P2P PSK challenge-response and room-secret resolution (no Nest imports: the CLI loads it directly).
export * from './psk';
// Moved down to @portcullis/platform (platform must not depend on auth); re-exported for the apps.
export { AuditLog } from '@portcullis/platform';
