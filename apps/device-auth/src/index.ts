export * from './config';
export * from './app.module';
export * from './device-auth';
