import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth } from '@portcullis/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BotProxyService } from './bot-proxy.service';
import { ProxyJoinDto, ProxyLeaveDto } from './bot.dto';

@ApiTags('bot')
@Auth(['device-token', 'oidc'])
@Controller('api/bot')
export class BotProxyController {
  constructor(private readonly bots: BotProxyService) {}

  @ApiOperation({ summary: 'Start (or reuse) the bot for a room' })
  @ApiBody({ type: ProxyJoinDto })
  @Post('join')
  @HttpCode(200)
  join(@Body() body: Record<string, unknown>, @Req() req: FastifyRequest): Promise<unknown> {
    return this.bots.join(body ?? {}, String(req.id));
  }

  @ApiOperation({ summary: 'Ask a bot to leave (force: true stops it at once)' })
  @Post('leave')
  @HttpCode(202)
  leave(@Body() body: ProxyLeaveDto, @Req() req: FastifyRequest): Promise<unknown> {
    return this.bots.leave(body, String(req.id));
  }

  @ApiOperation({ summary: "Relay of bot-control's session event stream (SSE)" })
  @Get('events')
  events(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.bots.relayEvents(req, reply);
  }
}
