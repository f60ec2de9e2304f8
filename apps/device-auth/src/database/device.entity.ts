import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A registered device. The secret itself is never stored: only HMAC-SHA-256(pepper, secret). */
@Entity({ name: 'devices' })
export class Device {
  @PrimaryColumn({ name: 'device_id', type: 'text' })
  deviceId!: string;

  @Column({ name: 'customer_id', type: 'text' })
  customerId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  /** Tokens carry the generation they were issued at; revoking raises it, voiding every older token. */
  @Column({ name: 'token_generation', type: 'integer', default: 1 })
  tokenGeneration!: number;

  @Column({ name: 'secret_hash', type: 'text', select: false })
  secretHash!: string;

  @Column({ name: 'previous_secret_hash', type: 'text', nullable: true, select: false })
  previousSecretHash!: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt!: Date | null;

  @Column({ name: 'secret_rotated_at', type: 'timestamptz', nullable: true })
  secretRotatedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
