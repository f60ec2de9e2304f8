export * from './config';
export * from './app.module';
export * from './device-auth';
export { deviceAuthDataSourceOptions, createDeviceAuthDataSource } from './database/data-source';
