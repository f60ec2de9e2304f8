export * from './config';
export * from './app.module';
export * from './bot-control';
