export * from './redaction';
export * from './logger.module';
