import type { SignalingRole } from '@portcullis/contracts';
import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SignalingRoom } from './signaling-room.entity';

/** A device's membership of a room; only members may open the room's relay socket. */
@Entity({ name: 'signaling_memberships' })
export class RoomMembership {
  @PrimaryColumn({ name: 'room_id', type: 'text' })
  roomId!: string;

  @ManyToOne(() => SignalingRoom, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: SignalingRoom;

  @PrimaryColumn({ name: 'device_id', type: 'text' })
  deviceId!: string;

  @Column({ type: 'text' })
  role!: SignalingRole;

  @Column({ name: 'joined_at', type: 'timestamptz', default: () => 'now()' })
  joinedAt!: Date;
}
