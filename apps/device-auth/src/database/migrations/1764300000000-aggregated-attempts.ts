import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Throttled sign-ins are kept as one row per device, address and window with a
 * count, so a flood of refused attempts adds rows at most once per window.
 */
export class AggregatedAttempts1764300000000 implements MigrationInterface {
  name = 'AggregatedAttempts1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE device_auth_attempts ADD COLUMN attempts integer NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE device_auth_attempts ADD COLUMN window_start timestamptz`);
    await q.query(`ALTER TABLE device_auth_attempts ADD COLUMN last_at timestamptz`);
    await q.query(`
      CREATE UNIQUE INDEX device_auth_attempts_window ON device_auth_attempts
        (window_start, (coalesce(device_id, '')), (coalesce(client_ip, '')), action, reason)
        WHERE window_start IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX device_auth_attempts_window`);
    await q.query(
      `ALTER TABLE device_auth_attempts DROP COLUMN last_at, DROP COLUMN window_start, DROP COLUMN attempts`,
    );
  }
}
