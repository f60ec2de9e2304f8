import { runMain } from '@portcullis/platform';
import { createRoomGatewayDataSource } from './data-source';

/** `node dist/apps/room-gateway/src/database/migrate.js [up|down]`: room-gateway's signaling tables. */
runMain(async () => {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const ds = await createRoomGatewayDataSource(url).initialize();
  try {
    if (process.argv[2] === 'down') await ds.undoLastMigration({ transaction: 'all' });
    else {
      const ran = await ds.runMigrations({ transaction: 'all' });
      process.stdout.write(`applied ${ran.length} migration(s)\n`);
    }
  } finally {
    await ds.destroy();
  }
});
