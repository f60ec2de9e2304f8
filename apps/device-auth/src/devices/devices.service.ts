import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AuditLog } from '@portcullis/auth';
import type { RevocationSnapshot } from '@portcullis/contracts';
import { MoreThan, Repository } from 'typeorm';
import { DeviceAuthConfig } from '../config';
import { AuthAttempt } from '../database/auth-attempt.entity';
import { Device } from '../database/device.entity';
import { LocalRevocations } from '../revocation/local-revocations';
import { RevocationPublisher } from '../revocation/revocation.publisher';
import { SecretHasher } from './secret-hasher';

export interface DeviceView {
  device_id: string;
  customer_id: string;
  name: string;
  active: boolean;
  token_generation: number;
  created_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
  secret_rotated_at: string | null;
  previous_secret_valid_until: string | null;
}

export function deviceView(d: Device): DeviceView {
  const prevValid = d.previousSecretExpiresAt && d.previousSecretExpiresAt.getTime() > Date.now();
  return {
    device_id: d.deviceId,
    customer_id: d.customerId,
    name: d.name,
    active: d.active,
    token_generation: d.tokenGeneration,
    created_at: d.createdAt.toISOString(),
    last_seen_at: d.lastSeenAt?.toISOString() ?? null,
    revoked_at: d.revokedAt?.toISOString() ?? null,
    secret_rotated_at: d.secretRotatedAt?.toISOString() ?? null,
    previous_secret_valid_until: prevValid ? (d.previousSecretExpiresAt as Date).toISOString() : null,
  };
}

interface CredentialRow {
  device_id: string;
  customer_id: string;
  name: string;
  active: boolean;
  token_generation: number;
  secret_hash: string;
  previous_secret_hash: string | null;
  previous_valid: boolean;
}

export type CredentialCheck =
  | { ok: true; device: Device; via: 'current' | 'previous' }
  | { ok: false; reason: 'unknown_device' | 'wrong_secret' | 'revoked'; deviceId: string };

/** The registry: devices, their hashed secrets, revocation and the audit trail. */
@Injectable()
export class DevicesService {
  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @InjectRepository(AuthAttempt) private readonly attempts: Repository<AuthAttempt>,
    private readonly hasher: SecretHasher,
    private readonly publisher: RevocationPublisher,
    private readonly audit: AuditLog,
    private readonly cfg: DeviceAuthConfig,
    private readonly revocations: LocalRevocations,
  ) {}

  async register(input: {
    device_id?: string;
    customer_id: string;
    name?: string;
  }): Promise<{ device: Device; secret: string }> {
    const deviceId = input.device_id ?? `dev_${this.hasher.generate().slice(3, 23)}`;
    const secret = this.hasher.generate();
    const inserted = await this.devices
      .createQueryBuilder()
      .insert()
      .values({
        deviceId,
        customerId: input.customer_id,
        name: input.name ?? deviceId,
        secretHash: this.hasher.hash(secret),
      })
      .orIgnore()
      .returning('device_id')
      .execute();
    if (!inserted.raw.length) throw new ConflictException({ detail: 'device already registered' });
    return { device: await this.get(deviceId), secret };
  }

  async get(deviceId: string): Promise<Device> {
    const d = await this.devices.findOneBy({ deviceId });
    if (!d) throw new NotFoundException({ detail: 'device not found' });
    return d;
  }

  find(deviceId: string): Promise<Device | null> {
    return this.devices.findOneBy({ deviceId });
  }

  list(opts: { customer_id?: string; limit: number; offset: number }): Promise<Device[]> {
    return this.devices.find({
      where: opts.customer_id ? { customerId: opts.customer_id } : {},
      order: { createdAt: 'ASC', deviceId: 'ASC' },
      take: opts.limit,
      skip: opts.offset,
    });
  }

  /**
   * Checks device_id + device_secret. The hash work and both comparisons run
   * on every path (unknown, wrong, revoked, good), so the answer's timing does
   * not tell them apart.
   */
  async checkCredentials(deviceId: string, secret: string): Promise<CredentialCheck> {
    // One raw query, the same shape whether or not a row comes back (entity hydration would add work only for known devices).
    const rows: CredentialRow[] = await this.devices.query(
      `SELECT device_id, customer_id, name, active, token_generation, secret_hash, previous_secret_hash,
              (previous_secret_expires_at IS NOT NULL AND previous_secret_expires_at > now()) AS previous_valid
       FROM devices WHERE device_id = $1`,
      [deviceId],
    );
    const row = rows[0];
    const match = this.hasher.matches(
      secret,
      row?.secret_hash,
      row?.previous_valid ? (row.previous_secret_hash ?? undefined) : undefined,
    );
    if (!row) return { ok: false, reason: 'unknown_device', deviceId };
    if (!match) return { ok: false, reason: 'wrong_secret', deviceId };
    if (!row.active) return { ok: false, reason: 'revoked', deviceId };
    const device = Object.assign(new Device(), {
      deviceId: row.device_id,
      customerId: row.customer_id,
      name: row.name,
      active: row.active,
      tokenGeneration: row.token_generation,
    });
    return { ok: true, device, via: match };
  }

  async touch(deviceId: string): Promise<void> {
    await this.devices.update({ deviceId }, { lastSeenAt: new Date() });
  }

  /** Voids every token of the device at once, here and (through NATS) in every verifier. */
  async revoke(deviceId: string): Promise<Device> {
    const rows: Array<{ token_generation: number; revoked_at: Date }> = await this.devices
      .query(
        `UPDATE devices SET active = false, token_generation = token_generation + 1, revoked_at = now()
       WHERE device_id = $1 RETURNING token_generation, revoked_at`,
        [deviceId],
      )
      .then((r: [unknown[], number] | unknown[]) => (Array.isArray(r[0]) ? r[0] : r) as never);
    if (!rows.length) throw new NotFoundException({ detail: 'device not found' });
    this.revocations.raise(deviceId, rows[0].token_generation);
    await this.publisher.deviceRevoked({
      device_id: deviceId,
      min_generation: rows[0].token_generation,
      revoked_at: new Date(rows[0].revoked_at).toISOString(),
    });
    this.audit.record({ principal: deviceId, action: 'device.revoke', decision: 'allow', reason: 'admin' });
    return this.get(deviceId);
  }

  async reactivate(deviceId: string): Promise<Device> {
    const res = await this.devices.update({ deviceId }, { active: true, revokedAt: null });
    if (!res.affected) throw new NotFoundException({ detail: 'device not found' });
    this.audit.record({ principal: deviceId, action: 'device.reactivate', decision: 'allow', reason: 'admin' });
    return this.get(deviceId);
  }

  /** A new secret; the old one keeps working for `overlapSeconds` (0: never again). */
  async rotateSecret(deviceId: string, overlapSeconds: number): Promise<{ device: Device; secret: string }> {
    const secret = this.hasher.generate();
    const rows = await this.devices.query(
      `UPDATE devices SET
         previous_secret_hash = CASE WHEN $3::int > 0 THEN secret_hash ELSE NULL END,
         previous_secret_expires_at = CASE WHEN $3::int > 0 THEN now() + make_interval(secs => $3::int) ELSE NULL END,
         secret_hash = $2, secret_rotated_at = now()
       WHERE device_id = $1 RETURNING device_id`,
      [deviceId, this.hasher.hash(secret), overlapSeconds],
    );
    const updated = Array.isArray(rows[0]) ? rows[0] : rows;
    if (!updated.length) throw new NotFoundException({ detail: 'device not found' });
    // The overlap is part of what the operator decided, so it stays in the audit reason; rotations are
    // rare admin actions, so the few values it takes do not swell the audit counter's labels.
    this.audit.record({
      principal: deviceId,
      action: 'device.rotate_secret',
      decision: 'allow',
      reason: `overlap_${overlapSeconds}s`,
    });
    return { device: await this.get(deviceId), secret };
  }

  async recordAttempt(a: {
    deviceId?: string;
    action: string;
    outcome: 'allow' | 'deny';
    reason: string;
    clientIp?: string;
  }): Promise<void> {
    await this.attempts.insert({
      deviceId: a.deviceId ?? null,
      action: a.action,
      outcome: a.outcome,
      reason: a.reason,
      clientIp: a.clientIp ?? null,
    });
    this.audit.record({
      principal: a.deviceId,
      action: a.action,
      decision: a.outcome,
      reason: a.reason,
      client_ip: a.clientIp,
    });
  }

  /**
   * A refused (throttled) sign-in, aggregated: one row per device, address, reason and
   * window of `windowSeconds` (aligned to the epoch), whose `attempts` counts them. The
   * audit log gets the first of each window; the row carries the running count.
   */
  async recordThrottled(a: {
    deviceId: string;
    clientIp?: string;
    reason: string;
    windowSeconds: number;
  }): Promise<void> {
    const rows: Array<{ inserted: boolean }> = await this.attempts.query(
      `INSERT INTO device_auth_attempts (device_id, action, outcome, reason, client_ip, attempts, window_start, last_at)
       VALUES ($1, 'device.auth', 'deny', $2, $3, 1, to_timestamp(floor(extract(epoch FROM now()) / $4::int) * $4::int), now())
       ON CONFLICT (window_start, (coalesce(device_id, '')), (coalesce(client_ip, '')), action, reason) WHERE window_start IS NOT NULL
       DO UPDATE SET attempts = device_auth_attempts.attempts + 1, last_at = excluded.last_at
       RETURNING (xmax = 0) AS inserted`,
      [a.deviceId, a.reason, a.clientIp ?? null, a.windowSeconds],
    );
    if (rows[0]?.inserted)
      this.audit.record({
        principal: a.deviceId,
        action: 'device.auth',
        decision: 'deny',
        reason: a.reason,
        client_ip: a.clientIp,
      });
  }

  /** Deletes attempts older than `days`, in batches on the created_at index so no one statement runs long. */
  async purgeAttempts(days: number, batch = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const res: [unknown[], number] = await this.attempts.query(
        `DELETE FROM device_auth_attempts WHERE id IN (
           SELECT id FROM device_auth_attempts WHERE created_at < now() - make_interval(days => $1::int) ORDER BY created_at LIMIT $2::int)`,
        [days, batch],
      );
      const n = Array.isArray(res) && typeof res[1] === 'number' ? res[1] : 0;
      total += n;
      if (n < batch) return total;
    }
  }

  recentAttempts(opts: { device_id?: string; limit: number }): Promise<AuthAttempt[]> {
    return this.attempts.find({
      where: opts.device_id ? { deviceId: opts.device_id } : {},
      order: { createdAt: 'DESC', id: 'DESC' },
      take: opts.limit,
    });
  }

  async revocationSnapshot(): Promise<RevocationSnapshot> {
    const rows = await this.devices.find({
      where: { tokenGeneration: MoreThan(1) },
      select: { deviceId: true, tokenGeneration: true },
    });
    return {
      iss: this.cfg.issuer,
      entries: rows.map((r) => ({ device_id: r.deviceId, min_generation: r.tokenGeneration })),
      at: new Date().toISOString(),
    };
  }
}
