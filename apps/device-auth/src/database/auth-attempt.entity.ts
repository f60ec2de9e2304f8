import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One authentication decision about a device (or an unknown device id). */
@Entity({ name: 'device_auth_attempts' })
@Index('device_auth_attempts_device_time', ['deviceId', 'createdAt'])
export class AuthAttempt {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** As presented; may name no registered device. */
  @Column({ name: 'device_id', type: 'text', nullable: true })
  deviceId!: string | null;

  @Column({ type: 'text' })
  action!: string;

  @Column({ type: 'text' })
  outcome!: 'allow' | 'deny';

  @Column({ type: 'text' })
  reason!: string;

  @Column({ name: 'client_ip', type: 'text', nullable: true })
  clientIp!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** How many attempts the row stands for: 1, or more for an aggregated (throttled) row. */
  @Column({ type: 'integer', default: 1 })
  attempts!: number;

  /** Set on aggregated rows: the start of the window the attempts fell in. */
  @Column({ name: 'window_start', type: 'timestamptz', nullable: true })
  windowStart!: Date | null;

  /** Set on aggregated rows: the latest attempt counted. */
  @Column({ name: 'last_at', type: 'timestamptz', nullable: true })
  lastAt!: Date | null;
}
