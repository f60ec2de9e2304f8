export * from './audit.publisher';
