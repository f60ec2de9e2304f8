import { DataSource, DataSourceOptions } from 'typeorm';
import { AuthAttempt } from './auth-attempt.entity';
import { Device } from './device.entity';
import { DeviceRegistry1764000000000 } from './migrations/1764000000000-device-registry';

export const DEVICE_AUTH_ENTITIES = [Device, AuthAttempt];
export const DEVICE_AUTH_MIGRATIONS = [DeviceRegistry1764000000000];

/** The one place the connection options are built: the app, the migrate command and the tests use it. */
export function deviceAuthDataSourceOptions(databaseUrl: string, opts: { migrationsRun?: boolean } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: DEVICE_AUTH_ENTITIES,
    migrations: DEVICE_AUTH_MIGRATIONS,
    migrationsTableName: 'device_auth_migrations',
    migrationsRun: opts.migrationsRun ?? false,
    synchronize: false,
    logging: false,
    extra: { max: 10 },
  };
}

export function createDeviceAuthDataSource(databaseUrl: string): DataSource {
  return new DataSource(deviceAuthDataSourceOptions(databaseUrl));
}
