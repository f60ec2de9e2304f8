import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { RoomTokenView, SignalingRoomView } from '@portcullis/contracts';
import { Auth } from '@portcullis/auth';
import { IssueRoomTokenDto } from './signaling.dto';
import { SignalingAdminMembersView, SignalingRoomsService } from './signaling-rooms.service';

/**
 * The operator's view of every signaling room (the dashboard's Rooms tab): what the owner
 * routes do, for any room, behind `X-Portcullis-API-Key` instead of a device token.
 */
@ApiTags('signaling admin')
@Auth('admin-key')
@Controller('admin/signaling/rooms')
export class SignalingAdminController {
  constructor(private readonly rooms: SignalingRoomsService) {}

  @Get()
  list(): Promise<SignalingRoomView[]> {
    return this.rooms.adminRooms();
  }

  @Get(':room_id/members')
  members(@Param('room_id') roomId: string): Promise<SignalingAdminMembersView> {
    return this.rooms.adminMembers(roomId);
  }

  @Delete(':room_id/members/:device_id')
  remove(@Param('room_id') roomId: string, @Param('device_id') deviceId: string): Promise<{ removed: string }> {
    return this.rooms.adminRemove(roomId, deviceId);
  }

  @Post(':room_id/tokens')
  invite(@Param('room_id') roomId: string, @Body() body: IssueRoomTokenDto): Promise<RoomTokenView> {
    return this.rooms.adminInvite(roomId, body.role, body.single_use ?? false, body.ttl_seconds);
  }
}
