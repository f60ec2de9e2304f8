export * from './revocation-map';
export * from './device-token.verifier';
export * from './device-token.guard';
export * from './device-principal.decorator';
export * from './revocation-sync';
export * from './device-token.module';
