export * from './config';
export * from './app.module';
export * from './interface-proxy';
