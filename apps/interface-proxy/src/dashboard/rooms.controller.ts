import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpException,
  HttpStatus,
  Param,
  Post,
  Req,
} from '@nestjs/common';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { randomBytes } from 'node:crypto';
import { roomSecretEnvName } from '@portcullis/auth';
import type { FastifyRequest } from 'fastify';
import { ApiExcludeController } from '@nestjs/swagger';
import { Auth } from '@portcullis/auth';
import { DEVICE_ID, ROOM_ID, RoomSecretDto } from './dashboard.dto';
import { RoomGatewayAdmin } from '../upstream/upstream.client';

export class InviteDto {
  @IsIn(['worker', 'client'], { message: 'role must be worker or client' }) role!: 'worker' | 'client';
  @IsOptional() @IsBoolean() single_use?: boolean;
  @IsOptional() @IsInt() @Min(60) @Max(7 * 24 * 3600) ttl_seconds?: number;
}

/** The operator room routes this tab expects from room-gateway (X-Portcullis-API-Key); see docs/apps/signaling-rooms.md, "Operator API". */
const ROOM_ADMIN_PREFIX = '/admin/signaling/rooms';

function roomId(id: string): string {
  if (!ROOM_ID.test(id)) throw new BadRequestException({ detail: 'invalid room id' });
  return encodeURIComponent(id);
}

/** Rooms tab: room-gateway's signaling rooms, and "Generate secret" for a room's PSK. */
@Auth('dashboard-session')
@ApiExcludeController()
@Controller('dashboard/api/rooms')
export class RoomsController {
  constructor(private readonly rooms: RoomGatewayAdmin) {}

  /**
   * The room secret is generated on the API client's side and never
   * stored by the suite. Here that client is this server: 32 random bytes,
   * answered once, kept nowhere.
   */
  @Post('secret')
  secret(@Body() body: RoomSecretDto): { room_id: string; room_secret: string; env_var: string } {
    return {
      room_id: body.room_id,
      room_secret: randomBytes(32).toString('hex'),
      env_var: roomSecretEnvName(body.room_id),
    };
  }

  @Get()
  async list(@Req() req: FastifyRequest): Promise<unknown> {
    try {
      return await this.rooms.call('GET', ROOM_ADMIN_PREFIX, undefined, String(req.id));
    } catch (err) {
      if (err instanceof HttpException && err.getStatus() === HttpStatus.NOT_FOUND) {
        // room-gateway serves its signaling routes only with a DATABASE_URL (or it predates them).
        throw new HttpException(
          {
            detail: `room-gateway has no signaling rooms to list (GET ${ROOM_ADMIN_PREFIX} not found): signaling is off there without DATABASE_URL`,
          },
          HttpStatus.NOT_IMPLEMENTED,
        );
      }
      throw err;
    }
  }

  @Get(':room_id/members')
  members(@Param('room_id') id: string, @Req() req: FastifyRequest): Promise<unknown> {
    return this.rooms.call('GET', `${ROOM_ADMIN_PREFIX}/${roomId(id)}/members`, undefined, String(req.id));
  }

  @Delete(':room_id/members/:device_id')
  remove(
    @Param('room_id') id: string,
    @Param('device_id') device: string,
    @Req() req: FastifyRequest,
  ): Promise<unknown> {
    if (!DEVICE_ID.test(device)) throw new BadRequestException({ detail: 'invalid device id' });
    return this.rooms.call(
      'DELETE',
      `${ROOM_ADMIN_PREFIX}/${roomId(id)}/members/${encodeURIComponent(device)}`,
      undefined,
      String(req.id),
    );
  }

  @Post(':room_id/tokens')
  invite(@Param('room_id') id: string, @Body() body: InviteDto, @Req() req: FastifyRequest): Promise<unknown> {
    return this.rooms.call('POST', `${ROOM_ADMIN_PREFIX}/${roomId(id)}/tokens`, body, String(req.id));
  }
}
