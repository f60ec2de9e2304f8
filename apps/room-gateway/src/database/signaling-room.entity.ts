import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A signaling room. The id is 128 random bits, so it cannot be guessed. */
@Entity({ name: 'signaling_rooms' })
export class SignalingRoom {
  @PrimaryColumn({ name: 'room_id', type: 'text' })
  roomId!: string;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  /** The creating device. */
  @Column({ name: 'owner_id', type: 'text' })
  ownerId!: string;

  /** The owner's customer; only devices of the same customer may join. */
  @Column({ name: 'customer_id', type: 'text' })
  customerId!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
