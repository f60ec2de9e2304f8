export * from './admin-key.source';
