import { DataSource, DataSourceOptions } from 'typeorm';
import { AuthAttempt } from './auth-attempt.entity';
import { Device } from './device.entity';
import { DeviceRegistry1764000000000 } from './migrations/1764000000000-device-registry';
import { AggregatedAttempts1764300000000 } from './migrations/1764300000000-aggregated-attempts';

export const DEVICE_AUTH_ENTITIES = [Device, AuthAttempt];
export const DEVICE_AUTH_MIGRATIONS = [DeviceRegistry1764000000000, AggregatedAttempts1764300000000];

export interface DatabaseTimeouts {
  /** Getting a connection (a new one, or a free one from a full pool); 0: wait forever. */
  connectTimeoutMs?: number;
  /** One statement, enforced by the server (statement_timeout) and, 1 s later, by the client; 0: no limit. */
  queryTimeoutMs?: number;
}

export const DEFAULT_DB_TIMEOUTS: Required<DatabaseTimeouts> = { connectTimeoutMs: 2000, queryTimeoutMs: 5000 };

/**
 * pg pool settings that make a database outage fail fast instead of holding
 * requests: a bounded connect (also bounds waiting for a free pooled client), a
 * server-side statement timeout, a client-side read timeout for a server that
 * stopped answering altogether, and TCP keepalive so a dead peer is noticed.
 * The pool opens new connections on demand, so service resumes by itself once
 * Postgres is back.
 */
export function poolOptions(t: DatabaseTimeouts = {}): Record<string, unknown> {
  const connect = t.connectTimeoutMs ?? DEFAULT_DB_TIMEOUTS.connectTimeoutMs;
  const query = t.queryTimeoutMs ?? DEFAULT_DB_TIMEOUTS.queryTimeoutMs;
  return {
    max: 10,
    connectionTimeoutMillis: connect,
    ...(query > 0 ? { statement_timeout: query, query_timeout: query + 1000, idle_in_transaction_session_timeout: query * 2 } : {}),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

/** The one place the connection options are built: the app, the migrate command and the tests use it. */
export function deviceAuthDataSourceOptions(databaseUrl: string, opts: { migrationsRun?: boolean } & DatabaseTimeouts = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: DEVICE_AUTH_ENTITIES,
    migrations: DEVICE_AUTH_MIGRATIONS,
    migrationsTableName: 'device_auth_migrations',
    migrationsRun: opts.migrationsRun ?? false,
    synchronize: false,
    logging: false,
    extra: poolOptions(opts),
  };
}

export function createDeviceAuthDataSource(databaseUrl: string, timeouts: DatabaseTimeouts = {}): DataSource {
  return new DataSource(deviceAuthDataSourceOptions(databaseUrl, timeouts));
}

/** Any fixed number: the advisory lock that lets one replica at a time run migrations. */
const MIGRATION_LOCK = 0x64657661; // "deva"

/**
 * Applies pending migrations under a Postgres advisory lock, so replicas that
 * start together do not race to create the same tables. The lock is polled
 * rather than waited on, so a replica waiting for another's migrations is not
 * cut off by the statement timeout.
 */
export async function runMigrationsLocked(ds: DataSource, waitMs = 120_000): Promise<number> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    const until = Date.now() + waitMs;
    for (;;) {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK])) as Array<{ locked: boolean }>;
      if (row?.locked) break;
      if (Date.now() > until) throw new Error('another replica held the migration lock for too long');
      await new Promise((r) => setTimeout(r, 200));
    }
    try {
      return (await ds.runMigrations({ transaction: 'all' })).length;
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
