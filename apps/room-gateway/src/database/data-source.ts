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
export function roomGatewayDataSourceOptions(databaseUrl: string, opts: { migrationsRun?: boolean } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ROOM_GATEWAY_ENTITIES,
    migrations: ROOM_GATEWAY_MIGRATIONS,
    migrationsTableName: 'room_gateway_migrations',
    migrationsRun: opts.migrationsRun ?? false,
    synchronize: false,
    logging: false,
    // Fail fast while Postgres is down or not answering (the request is answered 503), rather
    // than holding it: bounded connect, statement and read timeouts. The pool reconnects by itself.
    extra: {
      max: 10,
      connectionTimeoutMillis: 2000,
      statement_timeout: 5000,
      query_timeout: 6000,
      idle_in_transaction_session_timeout: 10000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    },
  };
}

export function createRoomGatewayDataSource(databaseUrl: string): DataSource {
  return new DataSource(roomGatewayDataSourceOptions(databaseUrl));
}
