import { applyDecorators, Body, Controller, Delete, Get, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MeteredThrottlerGuard } from '@portcullis/platform';
import type { FastifyRequest } from 'fastify';
import { profileNames } from './profiles';
import { Auth, Principal } from '@portcullis/auth';
import { ProviderCredential } from './provider-credential';
import { CallerMeta } from './provider-key.service';
import {
  CreateRoomDoc,
  CreatedRoomDoc,
  createRoomSchema,
  DeletedRoomDoc,
  ErrorDoc,
  RoomDoc,
  roomPathSchema,
} from './rooms.dto';
import { CreatedRoom, DeletedRoom, RoomsService } from './rooms.service';
import { RoomView } from './providers/provider';
import { parseOr422 } from './validation';

/** Auth metadata and the two headers' documentation, on every operation. */
const ByokOperation = (summary: string) =>
  applyDecorators(
    Auth('provider-key'),
    ApiOperation({ summary }),
    ApiHeader({
      name: 'X-Provider-Auth',
      required: true,
      description:
        'Your own provider credentials, "Bearer <key>" or the raw key. Daily: the Daily API key. ' +
        'LiveKit: "<api_key>:<api_secret>". Used for this request only; never stored or logged.',
    }),
    ApiHeader({
      name: 'X-Provider',
      required: false,
      description: 'Which provider (case-insensitive); default daily.',
      schema: { type: 'string', enum: ['daily', 'livekit'], default: 'daily' },
    }),
    ApiResponse({
      status: 400,
      type: ErrorDoc,
      description: 'Unsupported X-Provider, or the provider refused the request',
    }),
    ApiResponse({
      status: 401,
      type: ErrorDoc,
      description: 'Missing or malformed X-Provider-Auth, or "provider rejected the key"',
    }),
    ApiResponse({ status: 404, type: ErrorDoc, description: 'No such room at the provider' }),
    ApiResponse({ status: 422, description: 'A field is invalid: {"detail": [{"loc", "msg", "type"}]}' }),
    ApiResponse({
      status: 429,
      type: ErrorDoc,
      description: 'Rate limited (per key or per client address, or by the provider); see Retry-After',
    }),
    ApiResponse({ status: 502, type: ErrorDoc, description: 'The provider failed or could not be reached' }),
  );

const meta = (req: FastifyRequest): CallerMeta => ({
  method: req.method,
  route: req.routeOptions?.url ?? 'unmatched',
  clientIp: req.ip,
  requestId: String(req.id),
});

@ApiTags('rooms')
@Controller('api/rooms')
@UseGuards(MeteredThrottlerGuard)
export class RoomsController {
  constructor(private readonly rooms: RoomsService) {}

  @Post('create')
  @HttpCode(200)
  @ByokOperation(`Create a room from a profile (${profileNames.join(', ')}), with optional capability overrides`)
  @ApiBody({ type: CreateRoomDoc })
  @ApiOkResponse({ type: CreatedRoomDoc })
  create(
    @Principal() cred: ProviderCredential,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ): Promise<CreatedRoom> {
    return this.rooms.create(cred, parseOr422(createRoomSchema, body ?? {}, 'body'), meta(req));
  }

  @Get('get/:room_name')
  @ByokOperation('Get a room')
  @ApiOkResponse({ type: RoomDoc })
  get(
    @Principal() cred: ProviderCredential,
    @Param('room_name') name: string,
    @Req() req: FastifyRequest,
  ): Promise<RoomView> {
    return this.rooms.get(cred, parseOr422(roomPathSchema, { room_name: name }, 'path').room_name, meta(req));
  }

  @Delete('delete/:room_name')
  @ByokOperation('Delete a room')
  @ApiOkResponse({ type: DeletedRoomDoc })
  delete(
    @Principal() cred: ProviderCredential,
    @Param('room_name') name: string,
    @Req() req: FastifyRequest,
  ): Promise<DeletedRoom> {
    return this.rooms.delete(cred, parseOr422(roomPathSchema, { room_name: name }, 'path').room_name, meta(req));
  }
}
