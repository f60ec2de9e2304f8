export * from './common/public.decorator';
export * from './common/crypto';
export * from './common/audit';
export * from './common/kv-write';
export * from './common/kv-bucket';
export * from './common/route-metadata';
export * from './shared-secret/shared-secret';
export * from './signing/nonce-store';
export * from './signing/request-signature';
export * from './jwt/jwks-verifier';
// Device tokens issued by device-auth: DeviceTokenModule / DeviceTokenGuard / @DevicePrincipal().
export * from './device-token';
// Admin API key (X-Portcullis-API-Key): AdminKeyGuard over an AdminKeySource.
export * from './admin-key';
// P2P PSK challenge-response and room-secret resolution (no Nest imports: the CLI loads it directly).
export * from './psk';
