export * from './in-process.transport';
export * from './nats-connection.service';
export * from './messaging.module';
export * from './kv-bucket';
