/**
 * The framework-free primitives of libs/auth: hashing and constant-time secret
 * comparison, the pre-shared-key protocol and room-secret resolution, and HMAC
 * request signing. Nothing here loads Nest, so command
 * line code (apps/cli) imports `@portcullis/auth/primitives` and starts fast;
 * the guards, modules and verifiers are in `@portcullis/auth`.
 */
export * from './common/crypto';
export * from './psk';
export * from './signing/request-signature';
