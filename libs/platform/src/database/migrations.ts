import type { DataSource } from 'typeorm';
import { runMain } from '../run-main';

export interface MigrationLockOptions {
  /** The Postgres advisory lock key: any fixed number, one per app (its own migrations table). */
  lockId: number;
  /** How long to wait for another replica's migrations before giving up. */
  waitMs?: number;
}

/**
 * Runs `work` while holding a session-level Postgres advisory lock, so replicas
 * that start together do not race to create the same tables. The lock is polled
 * (pg_try_advisory_lock) rather than waited on, so a replica waiting for another
 * one's migrations is not cut off by the pool's statement timeout.
 */
async function withMigrationLock<T>(ds: DataSource, opts: MigrationLockOptions, work: () => Promise<T>): Promise<T> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    const until = Date.now() + (opts.waitMs ?? 120_000);
    for (;;) {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [opts.lockId])) as Array<{
        locked: boolean;
      }>;
      if (row?.locked) break;
      if (Date.now() > until) throw new Error('another replica held the migration lock for too long');
      await new Promise((r) => setTimeout(r, 200));
    }
    try {
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [opts.lockId]);
    }
  } finally {
    await runner.release();
  }
}

/** Applies the data source's pending migrations (one transaction) under the app's lock; returns how many ran. */
export async function runMigrations(ds: DataSource, opts: MigrationLockOptions): Promise<number> {
  return withMigrationLock(ds, opts, async () => (await ds.runMigrations({ transaction: 'all' })).length);
}

/** Reverts the last applied migration under the app's lock. */
export async function revertLastMigration(ds: DataSource, opts: MigrationLockOptions): Promise<void> {
  await withMigrationLock(ds, opts, () => ds.undoLastMigration({ transaction: 'all' }));
}

/**
 * The body of an app's `migrate.js [up|down]` command: DATABASE_URL from the
 * environment, `up` (the default) applies pending migrations and prints how
 * many, `down` reverts the last one. The data source should have no statement
 * timeout: an operator's migration may legitimately run long.
 */
export function runMigrateCommand(
  createDataSource: (databaseUrl: string) => DataSource,
  opts: MigrationLockOptions,
): void {
  runMain(async () => {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is required');
    const ds = await createDataSource(url).initialize();
    try {
      if (process.argv[2] === 'down') await revertLastMigration(ds, opts);
      else process.stdout.write(`applied ${await runMigrations(ds, opts)} migration(s)\n`);
    } finally {
      await ds.destroy();
    }
  });
}
