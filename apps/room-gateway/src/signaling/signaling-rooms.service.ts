import {
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AuditLog, DevicePrincipal } from '@portcullis/auth';
import type { RoomTokenView, SignalingMemberView, SignalingRole, SignalingRoomView } from '@portcullis/contracts';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RoomMembership } from '../database/room-membership.entity';
import { RoomTokenUse } from '../database/room-token-use.entity';
import { SignalingRoom } from '../database/signaling-room.entity';
import { SignalingConfig } from '../config';
import { RoomTokens } from './room-tokens';
import { SIGNALING_CONFIG } from './signaling.tokens';
import { SignalingPublisher } from './signaling.publisher';
import { SignalingRelay } from './signaling.relay';

/** A room that does not exist and one the caller is not in look the same, so ids cannot be probed. */
const NO_ROOM = () => new NotFoundException({ detail: 'room not found' });
const BAD_TOKEN = () => new UnauthorizedException({ detail: 'invalid room token' });

const ROOM_ID = /^rm_[0-9a-f]{32}$/;
/** The operator's room list is for a page: the newest rooms, not a whole table. */
const ADMIN_ROOM_LIMIT = 500;

export interface SignalingAdminMembersView {
  room_id: string;
  owner_id: string;
  members: SignalingMemberView[];
}

const PURGE_EVERY_MS = 60 * 60 * 1000;

@Injectable()
export class SignalingRoomsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly tokens: RoomTokens;
  private readonly logger = new Logger('SignalingRooms');
  private purger?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(SIGNALING_CONFIG) private readonly cfg: SignalingConfig,
    private readonly audit: AuditLog,
    private readonly relay: SignalingRelay,
    private readonly publisher: SignalingPublisher,
  ) {
    this.tokens = new RoomTokens(cfg.roomTokenKey);
  }

  onApplicationBootstrap(): void {
    this.purger = setInterval(() => void this.purgeSpentTokens(), PURGE_EVERY_MS).unref();
  }

  onApplicationShutdown(): void {
    if (this.purger) clearInterval(this.purger);
  }

  /** A spent single-use token past its expiry fails verification anyway, so its row can go. */
  async purgeSpentTokens(): Promise<number> {
    try {
      const [, affected] = await this.ds.query<[unknown, number]>(
        'DELETE FROM signaling_room_token_uses WHERE expires_at < now()',
      );
      return affected ?? 0;
    } catch (err) {
      this.logger.warn(`purge of spent room tokens failed: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }

  async create(device: DevicePrincipal, name?: string): Promise<SignalingRoomView> {
    const room = await this.ds.transaction(async (m) => {
      const r = m.create(SignalingRoom, {
        roomId: `rm_${randomBytes(16).toString('hex')}`,
        name: name ?? null,
        ownerId: device.deviceId,
        customerId: device.customerId,
      });
      await m.insert(SignalingRoom, r);
      await m.insert(RoomMembership, { roomId: r.roomId, deviceId: device.deviceId, role: 'owner' });
      return m.findOneByOrFail(SignalingRoom, { roomId: r.roomId });
    });
    this.record(device, 'room.create', 'allow', 'ok', room.roomId);
    return view(room);
  }

  async listMine(device: DevicePrincipal): Promise<SignalingRoomView[]> {
    const rooms = await this.ds
      .getRepository(SignalingRoom)
      .createQueryBuilder('r')
      .innerJoin(RoomMembership, 'm', 'm.room_id = r.room_id AND m.device_id = :d', { d: device.deviceId })
      .orderBy('r.created_at', 'ASC')
      .getMany();
    return rooms.map(view);
  }

  async invite(
    device: DevicePrincipal,
    roomId: string,
    role: 'worker' | 'client',
    singleUse: boolean,
    ttlSeconds?: number,
  ): Promise<RoomTokenView> {
    const room = await this.roomOf(device, roomId);
    if (room.ownerId !== device.deviceId) {
      this.record(device, 'room.invite', 'deny', 'not_owner', roomId);
      throw new ForbiddenException({ detail: 'only the room owner can issue room tokens' });
    }
    const issued = await this.issue(roomId, role, singleUse, ttlSeconds);
    this.record(device, 'room.invite', 'allow', 'ok', roomId);
    return issued;
  }

  async join(device: DevicePrincipal, roomToken: unknown): Promise<{ room_id: string; role: SignalingRole }> {
    const inv = await this.tokens.verify(roomToken);
    if (!inv) {
      this.record(device, 'room.join', 'deny', 'bad_room_token');
      throw BAD_TOKEN();
    }
    return this.ds.transaction(async (m) => {
      const room = await m.findOneBy(SignalingRoom, { roomId: inv.roomId });
      if (!room || room.customerId !== device.customerId) {
        this.record(device, 'room.join', 'deny', room ? 'other_customer' : 'room_gone', inv.roomId);
        throw BAD_TOKEN();
      }
      if (inv.singleUse) {
        // The primary key on jti is the single-use check: two concurrent joins cannot both insert.
        const inserted: unknown[] = await m.query(
          'INSERT INTO signaling_room_token_uses (jti, room_id, device_id, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING RETURNING jti',
          [inv.jti, inv.roomId, device.deviceId, inv.expiresAt],
        );
        if (!inserted.length) {
          const used = await m.findOneBy(RoomTokenUse, { jti: inv.jti });
          // The same device joining again with its own token is a retry, not a second use.
          if (used?.deviceId !== device.deviceId) {
            this.record(device, 'room.join', 'deny', 'room_token_used', inv.roomId);
            throw new ConflictException({ detail: 'room token already used' });
          }
        }
      }
      const existing = await m.findOneBy(RoomMembership, { roomId: inv.roomId, deviceId: device.deviceId });
      if (!existing) await m.insert(RoomMembership, { roomId: inv.roomId, deviceId: device.deviceId, role: inv.role });
      else if (existing.role !== 'owner' && existing.role !== inv.role)
        await m.update(RoomMembership, { roomId: inv.roomId, deviceId: device.deviceId }, { role: inv.role });
      const role = existing?.role === 'owner' ? 'owner' : inv.role;
      this.record(device, 'room.join', 'allow', 'ok', inv.roomId);
      return { room_id: inv.roomId, role };
    });
  }

  async members(device: DevicePrincipal, roomId: string): Promise<SignalingMemberView[]> {
    await this.roomOf(device, roomId);
    return this.memberViews(roomId);
  }

  /** The owner removes anyone but themself; a member may leave. Open sockets of the removed member close at once. */
  async remove(device: DevicePrincipal, roomId: string, deviceId: string): Promise<{ removed: string }> {
    const room = await this.roomOf(device, roomId);
    const self = deviceId === device.deviceId;
    if (!self && room.ownerId !== device.deviceId) {
      this.record(device, 'room.remove', 'deny', 'not_owner', roomId);
      throw new ForbiddenException({ detail: 'only the room owner can remove other members' });
    }
    await this.dropMember(room, deviceId, (reason) => this.record(device, 'room.remove', 'deny', reason, roomId));
    this.record(device, 'room.remove', 'allow', 'ok', roomId);
    return { removed: deviceId };
  }

  // ---- the operator (X-Portcullis-API-Key, checked by the admin-key strategy): any room, the owner's powers ----

  /** Every room, newest first, at most ADMIN_ROOM_LIMIT. */
  async adminRooms(): Promise<SignalingRoomView[]> {
    const rooms = await this.ds
      .getRepository(SignalingRoom)
      .find({ order: { createdAt: 'DESC' }, take: ADMIN_ROOM_LIMIT });
    this.adminRecord('room.list', 'allow', 'ok');
    return rooms.map(view);
  }

  async adminMembers(roomId: string): Promise<SignalingAdminMembersView> {
    const room = await this.adminRoom(roomId, 'room.members');
    const members = await this.memberViews(roomId);
    this.adminRecord('room.members', 'allow', 'ok', roomId);
    return { room_id: roomId, owner_id: room.ownerId, members };
  }

  /** Exactly the owner's remove: the member's open sockets close at once, here and on other replicas. */
  async adminRemove(roomId: string, deviceId: string): Promise<{ removed: string }> {
    const room = await this.adminRoom(roomId, 'room.remove');
    await this.dropMember(room, deviceId, (reason) => this.adminRecord('room.remove', 'deny', reason, roomId));
    this.adminRecord('room.remove', 'allow', 'ok', roomId);
    return { removed: deviceId };
  }

  /** The same signed room token the owner gets. */
  async adminInvite(
    roomId: string,
    role: 'worker' | 'client',
    singleUse: boolean,
    ttlSeconds?: number,
  ): Promise<RoomTokenView> {
    await this.adminRoom(roomId, 'room.invite');
    const token = await this.issue(roomId, role, singleUse, ttlSeconds);
    this.adminRecord('room.invite', 'allow', 'ok', roomId);
    return token;
  }

  /** The caller's role in the room, or undefined when it is not a member (or there is no such room). */
  async roleOf(roomId: string, deviceId: string): Promise<SignalingRole | undefined> {
    const m = await this.ds.getRepository(RoomMembership).findOneBy({ roomId, deviceId });
    return m?.role;
  }

  private async issue(
    roomId: string,
    role: 'worker' | 'client',
    singleUse: boolean,
    ttlSeconds?: number,
  ): Promise<RoomTokenView> {
    const ttl = Math.min(ttlSeconds ?? 86400, this.cfg.roomTokenMaxTtlSeconds);
    const { token, invitation } = await this.tokens.issue({ roomId, role, singleUse }, ttl);
    return {
      room_token: token,
      room_id: roomId,
      role,
      single_use: singleUse,
      expires_at: invitation.expiresAt.toISOString(),
    };
  }

  private async memberViews(roomId: string): Promise<SignalingMemberView[]> {
    const rows = await this.ds.getRepository(RoomMembership).find({ where: { roomId }, order: { joinedAt: 'ASC' } });
    const online = this.relay.connected(roomId);
    return rows.map((r) => ({
      device_id: r.deviceId,
      role: r.role,
      joined_at: r.joinedAt.toISOString(),
      connected: online.has(r.deviceId),
    }));
  }

  /** Deletes the membership, closes the member's sockets here and tells the other replicas. */
  private async dropMember(room: SignalingRoom, deviceId: string, deny: (reason: string) => void): Promise<void> {
    if (deviceId === room.ownerId) {
      deny('owner');
      throw new ConflictException({ detail: 'the owner cannot be removed' });
    }
    const res = await this.ds.getRepository(RoomMembership).delete({ roomId: room.roomId, deviceId });
    if (!res.affected) {
      deny('no_member');
      throw new NotFoundException({ detail: 'no such member' });
    }
    this.relay.disconnect(room.roomId, deviceId, 'removed');
    await this.publisher.memberRemoved(room.roomId, deviceId);
  }

  private async adminRoom(roomId: string, action: string): Promise<SignalingRoom> {
    const room = ROOM_ID.test(roomId) ? await this.ds.getRepository(SignalingRoom).findOneBy({ roomId }) : null;
    if (!room) {
      this.adminRecord(action, 'deny', 'room_not_found', ROOM_ID.test(roomId) ? roomId : undefined);
      throw NO_ROOM();
    }
    return room;
  }

  private async roomOf(device: DevicePrincipal, roomId: string): Promise<SignalingRoom> {
    if (!ROOM_ID.test(roomId) || !(await this.roleOf(roomId, device.deviceId))) throw NO_ROOM();
    const room = await this.ds.getRepository(SignalingRoom).findOneBy({ roomId });
    if (!room) throw NO_ROOM();
    return room;
  }

  private record(
    device: DevicePrincipal,
    action: string,
    decision: 'allow' | 'deny',
    reason: string,
    roomId?: string,
  ): void {
    this.audit.record({ principal: device.deviceId, action, target: roomId, decision, reason });
  }

  /** The key itself was audited (as a fingerprint) by the auth guard; here the operator is just "admin". */
  private adminRecord(action: string, decision: 'allow' | 'deny', reason: string, roomId?: string): void {
    this.audit.record({ principal: 'admin', action: `admin.${action}`, target: roomId, decision, reason });
  }
}

function view(r: SignalingRoom): SignalingRoomView {
  return { room_id: r.roomId, name: r.name, owner_id: r.ownerId, created_at: r.createdAt.toISOString() };
}
