/**
 * The framework-free primitives of libs/auth: hashing and comparison helpers,
 * the pre-shared-key protocol and room-secret resolution, the shared-secret
 * header check and HMAC request signing. Nothing here loads Nest, so command
 * line code (apps/cli) imports `@portcullis/auth/primitives` and starts fast;
 * the guards, modules and verifiers are in `@portcullis/auth`.
 */
export * from './common/crypto';
export * from './psk';
export * from './shared-secret/shared-secret';
export * from './signing/request-signature';
