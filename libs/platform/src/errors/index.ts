export * from './dependency-unavailable';
