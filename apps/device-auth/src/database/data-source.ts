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

/** Any fixed number: the advisory lock that lets one replica at a time run migrations. */
const MIGRATION_LOCK = 0x64657661; // "deva"

/**
 * Applies pending migrations under a Postgres advisory lock, so replicas that
 * start together do not race to create the same tables.
 */
export async function runMigrationsLocked(ds: DataSource): Promise<number> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      return (await ds.runMigrations({ transaction: 'all' })).length;
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
