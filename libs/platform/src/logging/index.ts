export * from './redaction';
export * from './app-logger';
export * from './logger.module';
