import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ApiTags } from '@nestjs/swagger';
import { Auth, DevicePrincipal, DeviceTokenVerifier, Internal, Principal } from '@portcullis/auth';
import {
  DeviceRevokedEvent,
  RoomTokenView,
  SignalingMemberRemovedEvent,
  SignalingMemberView,
  SignalingRole,
  SignalingRoomView,
  SignalingSubjects,
  Subjects,
} from '@portcullis/contracts';
import { CreateSignalingRoomDto, IssueRoomTokenDto, JoinRoomDto } from './signaling.dto';
import { SignalingRelay } from './signaling.relay';
import { SignalingRoomsService } from './signaling-rooms.service';

/** Signaling rooms: every route needs `Authorization: Bearer <device token>`. */
@ApiTags('signaling')
@Auth('device-token')
@Controller('signaling/rooms')
export class SignalingController {
  constructor(private readonly rooms: SignalingRoomsService) {}

  @Post()
  create(@Principal() device: DevicePrincipal, @Body() body: CreateSignalingRoomDto): Promise<SignalingRoomView> {
    return this.rooms.create(device, body.name);
  }

  @Get()
  list(@Principal() device: DevicePrincipal): Promise<SignalingRoomView[]> {
    return this.rooms.listMine(device);
  }

  @Post('join')
  @HttpCode(200)
  join(
    @Principal() device: DevicePrincipal,
    @Body() body: JoinRoomDto,
  ): Promise<{ room_id: string; role: SignalingRole }> {
    return this.rooms.join(device, body.room_token);
  }

  @Post(':room_id/tokens')
  invite(
    @Principal() device: DevicePrincipal,
    @Param('room_id') roomId: string,
    @Body() body: IssueRoomTokenDto,
  ): Promise<RoomTokenView> {
    return this.rooms.invite(device, roomId, body.role, body.single_use ?? false, body.ttl_seconds);
  }

  @Get(':room_id/members')
  members(@Principal() device: DevicePrincipal, @Param('room_id') roomId: string): Promise<SignalingMemberView[]> {
    return this.rooms.members(device, roomId);
  }

  @Delete(':room_id/members/:device_id')
  remove(
    @Principal() device: DevicePrincipal,
    @Param('room_id') roomId: string,
    @Param('device_id') deviceId: string,
  ): Promise<{ removed: string }> {
    return this.rooms.remove(device, roomId, deviceId);
  }
}

/**
 * Cuts off a revoked device's (or removed member's) sockets the moment device-auth's event arrives. It runs beside
 * libs/auth's RevocationEventsController (Nest chains event handlers), so it raises the floor itself
 * rather than depend on the order the two run in; the relay's 1 s sweep covers re-synced snapshots.
 */
@Internal()
@Controller()
export class SignalingRevocationListener {
  constructor(
    private readonly verifier: DeviceTokenVerifier,
    private readonly relay: SignalingRelay,
  ) {}

  @EventPattern(Subjects.deviceRevoked)
  revoked(@Payload() e: DeviceRevokedEvent): void {
    if (e?.iss !== this.verifier.issuer || typeof e.device_id !== 'string') return;
    this.verifier.revocations.raise(e.device_id, Number(e.min_generation));
    this.relay.sweep();
  }

  /** A member removed through another replica: close its socket here too. */
  @EventPattern(SignalingSubjects.memberRemoved)
  memberRemoved(@Payload() e: SignalingMemberRemovedEvent): void {
    if (typeof e?.room_id === 'string' && typeof e.device_id === 'string')
      this.relay.disconnect(e.room_id, e.device_id, 'removed');
  }
}
