import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The one use of a single-use room token: the primary key on jti makes a second use fail in Postgres. */
@Entity({ name: 'signaling_room_token_uses' })
export class RoomTokenUse {
  @PrimaryColumn({ type: 'text' })
  jti!: string;

  @Column({ name: 'room_id', type: 'text' })
  roomId!: string;

  @Column({ name: 'device_id', type: 'text' })
  deviceId!: string;

  /** Kept so expired rows can be purged. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', default: () => 'now()' })
  usedAt!: Date;
}
