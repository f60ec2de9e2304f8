export * from './psk.protocol';
export * from './secret-resolver';
