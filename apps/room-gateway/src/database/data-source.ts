import { poolOptions } from '@portcullis/platform';
import { DataSource, DataSourceOptions } from 'typeorm';
import { SignalingRoom } from './signaling-room.entity';
import { RoomMembership } from './room-membership.entity';
import { RoomTokenUse } from './room-token-use.entity';
import { SignalingRooms1764200000000 } from './migrations/1764200000000-signaling-rooms';

export const ROOM_GATEWAY_ENTITIES = [SignalingRoom, RoomMembership, RoomTokenUse];
export const ROOM_GATEWAY_MIGRATIONS = [SignalingRooms1764200000000];

/**
 * The one place room-gateway's connection options are built (app, migrate command, tests).
 * Its own migrations table, so it can share a database with device-auth.
 */
export function roomGatewayDataSourceOptions(
  databaseUrl: string,
  opts: { queryTimeoutMs?: number } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ROOM_GATEWAY_ENTITIES,
    migrations: ROOM_GATEWAY_MIGRATIONS,
    migrationsTableName: 'room_gateway_migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
    // Fail fast while Postgres is down or not answering (answered 503) rather than holding the request.
    extra: poolOptions(opts),
  };
}

export function createRoomGatewayDataSource(databaseUrl: string, opts: { queryTimeoutMs?: number } = {}): DataSource {
  return new DataSource(roomGatewayDataSourceOptions(databaseUrl, opts));
}

/** room-gateway's migration advisory lock key ("room"): one replica at a time runs them. */
export const ROOM_GATEWAY_MIGRATION_LOCK = { lockId: 0x726f6f6d };
