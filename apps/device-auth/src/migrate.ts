import { runMigrateCommand } from '@portcullis/platform';
import { createDeviceAuthDataSource, DEVICE_AUTH_MIGRATION_LOCK } from './database/data-source';

/** `node dist/apps/device-auth/src/migrate.js [up|down]`: applies (or reverts the last of) device-auth's migrations. */
runMigrateCommand((url) => createDeviceAuthDataSource(url, { queryTimeoutMs: 0 }), DEVICE_AUTH_MIGRATION_LOCK);
