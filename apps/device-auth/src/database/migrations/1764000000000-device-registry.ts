import { MigrationInterface, QueryRunner } from 'typeorm';

export class DeviceRegistry1764000000000 implements MigrationInterface {
  name = 'DeviceRegistry1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE devices (
        device_id text PRIMARY KEY,
        customer_id text NOT NULL,
        name text NOT NULL,
        active boolean NOT NULL DEFAULT true,
        token_generation integer NOT NULL DEFAULT 1,
        secret_hash text NOT NULL,
        previous_secret_hash text,
        previous_secret_expires_at timestamptz,
        secret_rotated_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX devices_customer ON devices (customer_id)`);
    await q.query(`
      CREATE TABLE device_auth_attempts (
        id bigserial PRIMARY KEY,
        device_id text,
        action text NOT NULL,
        outcome text NOT NULL,
        reason text NOT NULL,
        client_ip text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX device_auth_attempts_device_time ON device_auth_attempts (device_id, created_at)`);
    await q.query(`CREATE INDEX device_auth_attempts_time ON device_auth_attempts (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device_auth_attempts`);
    await q.query(`DROP TABLE devices`);
  }
}
