export * from './audit.publisher';
export * from './audit-log';
