import { MigrationInterface, QueryRunner } from 'typeorm';

export class SignalingRooms1764200000000 implements MigrationInterface {
  name = 'SignalingRooms1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE signaling_rooms (
        room_id text PRIMARY KEY,
        name text,
        owner_id text NOT NULL,
        customer_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE signaling_memberships (
        room_id text NOT NULL REFERENCES signaling_rooms (room_id) ON DELETE CASCADE,
        device_id text NOT NULL,
        role text NOT NULL CHECK (role IN ('owner', 'worker', 'client')),
        joined_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (room_id, device_id)
      )`);
    await q.query(`CREATE INDEX signaling_memberships_device ON signaling_memberships (device_id)`);
    await q.query(`
      CREATE TABLE signaling_room_token_uses (
        jti text PRIMARY KEY,
        room_id text NOT NULL REFERENCES signaling_rooms (room_id) ON DELETE CASCADE,
        device_id text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX signaling_room_token_uses_expiry ON signaling_room_token_uses (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE signaling_room_token_uses`);
    await q.query(`DROP TABLE signaling_memberships`);
    await q.query(`DROP TABLE signaling_rooms`);
  }
}
