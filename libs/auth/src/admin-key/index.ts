export * from './admin-key.source';
export * from './admin-key.guard';
