import { DatabaseTimeouts, poolOptions } from '@portcullis/platform';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AuthAttempt } from './auth-attempt.entity';
import { Device } from './device.entity';
import { DeviceRegistry1764000000000 } from './migrations/1764000000000-device-registry';
import { AggregatedAttempts1764300000000 } from './migrations/1764300000000-aggregated-attempts';

export const DEVICE_AUTH_ENTITIES = [Device, AuthAttempt];
export const DEVICE_AUTH_MIGRATIONS = [DeviceRegistry1764000000000, AggregatedAttempts1764300000000];

/** The one place the connection options are built: the app, the migrate command and the tests use it. */
export function deviceAuthDataSourceOptions(databaseUrl: string, opts: DatabaseTimeouts = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: DEVICE_AUTH_ENTITIES,
    migrations: DEVICE_AUTH_MIGRATIONS,
    migrationsTableName: 'device_auth_migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
    extra: poolOptions(opts),
  };
}

export function createDeviceAuthDataSource(databaseUrl: string, timeouts: DatabaseTimeouts = {}): DataSource {
  return new DataSource(deviceAuthDataSourceOptions(databaseUrl, timeouts));
}

/** device-auth's migration advisory lock key ("deva"): one replica at a time runs them. */
export const DEVICE_AUTH_MIGRATION_LOCK = { lockId: 0x64657661 };
