import { runMain } from '@portcullis/platform';
import { createDeviceAuthDataSource, runMigrationsLocked } from './database/data-source';

/** `node dist/apps/device-auth/src/migrate.js [up|down]`: applies (or reverts the last of) device-auth's migrations. */
runMain(async () => {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  // No statement timeout: an operator's migration may legitimately run long.
  const ds = await createDeviceAuthDataSource(url, { queryTimeoutMs: 0 }).initialize();
  try {
    if (process.argv[2] === 'down') await ds.undoLastMigration({ transaction: 'all' });
    else {
      process.stdout.write(`applied ${await runMigrationsLocked(ds)} migration(s)\n`);
    }
  } finally {
    await ds.destroy();
  }
});
