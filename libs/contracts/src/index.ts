export * from './subjects';
export * from './bot-events';
export * from './audit';
export * from './device-auth';
export * from './room-gateway';
export * from './signaling';
