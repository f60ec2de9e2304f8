export * from './clock';
export * from './device-client';
