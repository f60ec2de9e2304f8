import { runMigrateCommand } from '@portcullis/platform';
import { createRoomGatewayDataSource, ROOM_GATEWAY_MIGRATION_LOCK } from './data-source';

/** `node dist/apps/room-gateway/src/database/migrate.js [up|down]`: room-gateway's signaling tables. */
runMigrateCommand((url) => createRoomGatewayDataSource(url, { queryTimeoutMs: 0 }), ROOM_GATEWAY_MIGRATION_LOCK);
