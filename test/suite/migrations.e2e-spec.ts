import { revertLastMigration, runMigrations } from '@portcullis/platform';
import { DataSource } from 'typeorm';
import {
  createDeviceAuthDataSource,
  DEVICE_AUTH_MIGRATIONS,
  DEVICE_AUTH_MIGRATION_LOCK,
} from '../../apps/device-auth/src/database/data-source';
import {
  createRoomGatewayDataSource,
  ROOM_GATEWAY_MIGRATIONS,
  ROOM_GATEWAY_MIGRATION_LOCK,
} from '../../apps/room-gateway/src/database/data-source';
import { createTestDatabase, sql } from '../support/device-auth';

/** The shared migration runner: one replica at a time per app, under a polled Postgres advisory lock. */
describe('locked migrations (real Postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const open: DataSource[] = [];
  const source = async (make: () => DataSource) => {
    const ds = await make().initialize();
    open.push(ds);
    return ds;
  };

  beforeAll(async () => {
    db = await createTestDatabase('migrations');
  });
  afterAll(async () => {
    await Promise.all(open.map((ds) => ds.destroy()));
    await db.drop();
  });

  it('replicas starting together apply each migration exactly once, both apps in one database', async () => {
    const replicas = await Promise.all([
      ...[1, 2, 3].map(() => source(() => createDeviceAuthDataSource(db.url))),
      ...[1, 2].map(() => source(() => createRoomGatewayDataSource(db.url))),
    ]);
    const locks = [
      DEVICE_AUTH_MIGRATION_LOCK,
      DEVICE_AUTH_MIGRATION_LOCK,
      DEVICE_AUTH_MIGRATION_LOCK,
      ROOM_GATEWAY_MIGRATION_LOCK,
      ROOM_GATEWAY_MIGRATION_LOCK,
    ];
    const applied = await Promise.all(replicas.map((ds, i) => runMigrations(ds, locks[i])));

    expect(applied.slice(0, 3).reduce((a, b) => a + b)).toBe(DEVICE_AUTH_MIGRATIONS.length);
    expect(applied.slice(3).reduce((a, b) => a + b)).toBe(ROOM_GATEWAY_MIGRATIONS.length);
    const [da, rg] = await sql(
      db.url,
      'SELECT count(*)::int AS n FROM device_auth_migrations',
      'SELECT count(*)::int AS n FROM room_gateway_migrations',
    );
    expect(da[0].n).toBe(DEVICE_AUTH_MIGRATIONS.length);
    expect(rg[0].n).toBe(ROOM_GATEWAY_MIGRATIONS.length);
    // Running again is a no-op.
    expect(await runMigrations(replicas[0], DEVICE_AUTH_MIGRATION_LOCK)).toBe(0);
  });

  it('waits while another session holds the lock, gives up past its wait, and proceeds once it is released', async () => {
    const holder = await source(() => createDeviceAuthDataSource(db.url));
    const runner = holder.createQueryRunner();
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [DEVICE_AUTH_MIGRATION_LOCK.lockId]);
    const ds = await source(() => createDeviceAuthDataSource(db.url));
    try {
      await expect(runMigrations(ds, { ...DEVICE_AUTH_MIGRATION_LOCK, waitMs: 500 })).rejects.toThrow(/migration lock/);
      // Another app's lock is independent.
      expect(
        await runMigrations(await source(() => createRoomGatewayDataSource(db.url)), ROOM_GATEWAY_MIGRATION_LOCK),
      ).toBe(0);
      const waiting = runMigrations(ds, DEVICE_AUTH_MIGRATION_LOCK);
      await new Promise((r) => setTimeout(r, 300));
      await runner.query('SELECT pg_advisory_unlock($1)', [DEVICE_AUTH_MIGRATION_LOCK.lockId]);
      await expect(waiting).resolves.toBe(0);
    } finally {
      await runner.release();
    }
  });

  it('reverts the last migration under the lock, and the next run applies it again', async () => {
    const ds = await source(() => createRoomGatewayDataSource(db.url));
    await revertLastMigration(ds, ROOM_GATEWAY_MIGRATION_LOCK);
    const [rows] = await sql(db.url, 'SELECT count(*)::int AS n FROM room_gateway_migrations');
    expect(rows[0].n).toBe(ROOM_GATEWAY_MIGRATIONS.length - 1);
    expect(await runMigrations(ds, ROOM_GATEWAY_MIGRATION_LOCK)).toBe(1);
  });
});
