export * from './revocation-map';
export * from './device-token.verifier';
export * from './revocation-sync';
export * from './device-token.module';
