export * from './throttle-window';
export * from './jetstream-throttler.storage';
export * from './memory-throttler.storage';
export * from './throttler-storage.factory';
export * from './metered-throttler.guard';
